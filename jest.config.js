/** Type checking runs once for the whole project (`tsc --noEmit` in `npm test`); ts-jest only transpiles, which keeps jest fast. */
module.exports = {
  testEnvironment: "node",
  // Jest's default on 2 cores is one worker; most suites wait on Terraform or child processes, so two pay off.
  maxWorkers: 2,
  roots: ["<rootDir>/test"],
  // The examples import the package by its name, as an app that installed it would.
  moduleNameMapper: { "^mcp-deploy$": "<rootDir>/index.ts" },
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": "ts-jest" },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
