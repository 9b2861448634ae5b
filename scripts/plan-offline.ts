import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { OFFLINE_PLAN_VARIABLE } from "../stacks/offline-plan";
import { mirrorEnvironment } from "./terraform-mirror";

// `npm run plan:offline -- <stack>`: `cdktf diff <stack>` with no AWS account, the plan the tests
// make: a local backend, fake credentials, and providers from the local mirror when there is one.
const stack = process.argv[2];
if (!stack || stack.startsWith("-")) {
  console.error("usage: npm run plan:offline -- <stack>   (npx cdktf list names the stacks)");
  process.exit(2);
}
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-deploy-offline-"));
try {
  const env = { ...process.env, [OFFLINE_PLAN_VARIABLE]: "1", ...mirrorEnvironment(scratch), CHECKPOINT_DISABLE: "1" };
  const run = spawnSync("cdktf", ["diff", stack], { stdio: "inherit", env });
  if (run.error) throw run.error;
  process.exitCode = run.status ?? 1;
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
