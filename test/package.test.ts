import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { TerraformJson } from "./support/fixtures";
import { COMMAND_TIMEOUT_MS } from "./support/processes";
import { OfflineWorkdir } from "./support/terraform";

/*
 * The construct library as another team installs it: `npm pack`, then a fresh CDKTF app that
 * depends on the tarball, on the peers at versions other than this repo's own (constructs 10.4.2
 * here against 10.4.5), and on nothing else of ours. The app must type-check (one copy of
 * constructs, or `new X(this, ...)` fails), synthesize, and plan offline.
 */
const ROOT = path.resolve(__dirname, "..");
const APP = path.join(__dirname, "fixtures", "consumer-app");
const PEERS = { "@cdktf/provider-aws": "20.1.0", cdktf: "0.21.0", constructs: "10.4.2" };

function run(command: string, args: string[], cwd: string) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, npm_config_audit: "false", npm_config_fund: "false" }, maxBuffer: 64 * 1024 * 1024, timeout: COMMAND_TIMEOUT_MS });
  return { code: result.status, stdout: result.stdout, output: `${result.stdout}${result.stderr}` };
}

describe("the packed package, installed into another team's CDKTF app", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-deploy-consumer-"));
  let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };

  beforeAll(() => {
    const pack = run("npm", ["pack", "--json", "--pack-destination", dir], ROOT);
    if (pack.code !== 0) throw new Error(`npm pack failed:\n${pack.output}`);
    // The lifecycle scripts (prepare, prepack) print on stdout too, before npm's JSON.
    packed = JSON.parse(pack.stdout.slice(pack.stdout.lastIndexOf("\n[") + 1))[0];
    for (const file of ["main.ts", "tsconfig.json"]) fs.copyFileSync(path.join(APP, file), path.join(dir, file));
    const rootPackage = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
    fs.writeFileSync(
      path.join(dir, "package.json"),
      JSON.stringify({
        name: "team-app",
        private: true,
        dependencies: { "mcp-deploy": `file:./${packed.filename}`, ...PEERS },
        devDependencies: { typescript: rootPackage.devDependencies.typescript, "@types/node": rootPackage.devDependencies["@types/node"] },
      }),
    );
    const install = run("npm", ["install", "--prefer-offline", "--no-package-lock"], dir);
    if (install.code !== 0) throw new Error(`npm install failed:\n${install.output}`);
  }, 300_000);

  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("holds the built library and its docs, and none of this repo's app, tests or server", () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["package.json", "README.md", "lib/index.js", "lib/index.d.ts", "lib/constructs/mcp-service.js", "lib/constructs/mcp-service.d.ts"]));
    expect(files.filter((f) => /^(stacks|release|scripts|test|server|config\/environments|bootstrap)\//.test(f) || f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("installs with one copy of each peer, the app's own, and no AWS or MCP SDK", () => {
    const installed = (name: string) => fs.existsSync(path.join(dir, "node_modules", name, "package.json"));
    expect(installed("mcp-deploy/node_modules/constructs")).toBe(false);
    expect(installed("mcp-deploy/node_modules/cdktf")).toBe(false);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "constructs", "package.json"), "utf8")).version).toBe(PEERS.constructs);
    for (const sdk of ["@aws-sdk/client-ecs", "@modelcontextprotocol/sdk", "commander"]) expect({ sdk, installed: installed(sdk) }).toEqual({ sdk, installed: false });
  });

  it("type-checks, synthesizes and plans offline", () => {
    const tsc = run(path.join(dir, "node_modules", ".bin", "tsc"), ["-p", "."], dir);
    expect({ code: tsc.code, output: tsc.output }).toEqual({ code: 0, output: "" });
    const synth = run(process.execPath, ["dist/main.js"], dir);
    expect({ code: synth.code, output: synth.output }).toEqual({ code: 0, output: "" });
    const stack = JSON.parse(fs.readFileSync(path.join(dir, "cdktf.out", "stacks", "team", "cdk.tf.json"), "utf8")) as TerraformJson;
    const workdir = new OfflineWorkdir(stack);
    try {
      const init = workdir.run("init", "-input=false");
      expect(init.code).toBe(0);
      const plan = workdir.run("plan", "-input=false", "-lock=false", "-detailed-exitcode");
      expect({ code: plan.code, errors: plan.output.match(/Error: .*/g) ?? [] }).toEqual({ code: 2, errors: [] });
    } finally {
      workdir.remove();
    }
  }, 240_000);
});
