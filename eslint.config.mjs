// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/", "**/dist/", "lib/", "server/dist-test/", "cdktf.out/", "coverage/", "**/*.js"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused names prefixed with _ are deliberate (destructuring a field away).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    // Plain ESM scripts that npm runs (the root `prepare`), on Node.
    files: ["scripts/**/*.mjs"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  // Layers: config <- constructs <- stacks <- release and scripts. A lower layer never imports a higher one.
  {
    files: ["config/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["**/constructs/**", "**/stacks/**", "**/release/**", "**/scripts/**"], message: "config is the lowest layer" }] }] },
  },
  {
    files: ["constructs/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["**/stacks/**", "**/release/**", "**/scripts/**"], message: "constructs may import config only" }] }] },
  },
  {
    files: ["stacks/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["**/release/**", "**/scripts/**"], message: "stacks may import config and constructs only" }] }] },
  },
  {
    // CDKTF constructs are created for their side effect on the construct tree.
    files: ["constructs/**/*.ts", "stacks/**/*.ts", "test/**/*.ts"],
    rules: { "no-new": "off" },
  },
);
