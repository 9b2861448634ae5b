/** Type checking runs separately (`tsc --noEmit` in `npm test`); swc only strips types, which keeps jest fast. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" } }] },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
