/** Type checking runs once for the whole project (`tsc --noEmit` in `npm test`); ts-jest only transpiles, which keeps jest fast. */
module.exports = {
  testEnvironment: "node",
  // Jest's default on 2 cores is one worker; most suites wait on Terraform or child processes, so two pay off.
  maxWorkers: 2,
  roots: ["<rootDir>/test"],
  // The examples import the package by its name, as an app that installed it would.
  moduleNameMapper: { "^mcp-deploy$": "<rootDir>/index.ts" },
  testMatch: ["**/*.test.ts"],
  // The image tests build and run a container image as root: `npm run test:image` runs them (test/image/jest.config.js).
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/image/"],
  transform: { "^.+\\.ts$": "ts-jest" },
  setupFilesAfterEnv: ["<rootDir>/test/setup.ts"],
  snapshotFormat: { escapeString: false, printBasicPrototype: false },
};
