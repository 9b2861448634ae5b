// @ts-check
import eslint from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/", "**/dist/", "server/dist-test/", "cdktf.out/", "coverage/", "**/*.js"] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused names prefixed with _ are deliberate (destructuring a field away).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    // CDKTF constructs are created for their side effect on the construct tree.
    files: ["constructs/**/*.ts", "stacks/**/*.ts", "test/**/*.ts"],
    rules: { "no-new": "off" },
  },
);
