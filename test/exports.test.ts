import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

// Other teams build from the blocks too: a construct the package does not export is one they cannot use.
it("exports every construct file from the package's index", () => {
  const index = readFileSync(join(__dirname, "..", "index.ts"), "utf8");
  const constructs = readdirSync(join(__dirname, "..", "constructs")).filter((f) => f.endsWith(".ts")).map((f) => f.replace(/\.ts$/, ""));
  expect(constructs.filter((name) => !index.includes(`export * from "./constructs/${name}";`))).toEqual([]);
});
