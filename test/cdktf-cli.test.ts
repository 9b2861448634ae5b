import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { mirrorEnvironment } from "../scripts/terraform-mirror";
import { OFFLINE_PLAN_VARIABLE } from "../stacks/offline-plan";
import { COMMAND_TIMEOUT_MS } from "./support/processes";

const ROOT = path.resolve(__dirname, "..");

/** The real cdktf CLI (npx, so Node 24 from the `node` dev dependency, and the pty module `npm ci` built for it). */
function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, env: { ...process.env, CHECKPOINT_DISABLE: "1", ...env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: COMMAND_TIMEOUT_MS });
  // eslint-disable-next-line no-control-regex -- removing the CLI's terminal colour codes is the point
  return { code: result.status, output: `${result.stdout}${result.stderr}`.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "") };
}

const stacksIn = (outdir: string) => fs.readdirSync(path.join(outdir, "stacks")).sort();
const stackJson = (outdir: string, stack: string) => fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8");

describe("the cdktf CLI, as a user runs it", () => {
  let scratch: string;
  beforeAll(() => (scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-deploy-cli-"))));
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("`npx cdktf synth` writes what `npm run synth` writes", () => {
    const viaCli = path.join(scratch, "cli");
    const viaNpm = path.join(scratch, "npm");
    const cli = run("npx", ["cdktf", "synth", "--output", viaCli]);
    expect({ code: cli.code, output: cli.code === 0 ? "" : cli.output }).toEqual({ code: 0, output: "" });
    const npm = run("npm", ["run", "--silent", "synth"], { CDKTF_OUTDIR: viaNpm });
    expect(npm.code).toBe(0);

    expect(stacksIn(viaCli)).toEqual(stacksIn(viaNpm));
    expect(stacksIn(viaCli)).toEqual(expect.arrayContaining(["production", "staging"]));
    for (const stack of stacksIn(viaCli)) expect(stackJson(viaCli, stack)).toBe(stackJson(viaNpm, stack));
  }, 120_000);

  it("`npx cdktf list` names every stack", () => {
    const list = run("npx", ["cdktf", "list", "--output", path.join(scratch, "list")]);
    expect(list.code).toBe(0);
    for (const stack of ["staging", "production", "bootstrap-111111111111", "bootstrap-222222222222"]) expect(list.output).toMatch(new RegExp(`^${stack}\\s`, "m"));
  }, 120_000);

  it("`npx cdktf diff staging` plans offline with the offline-plan switch on", () => {
    const env = { [OFFLINE_PLAN_VARIABLE]: "1", ...mirrorEnvironment(scratch) };
    const diff = run("npx", ["cdktf", "diff", "staging", "--output", path.join(scratch, "diff")], env);
    expect({ code: diff.code, errors: diff.output.match(/Error: .*/g) ?? [] }).toEqual({ code: 0, errors: [] });
    expect(diff.output).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy/);
  }, 180_000);

  it("`npx cdktf output staging` reads the stack's outputs (none yet, offline: no state)", () => {
    const env = { [OFFLINE_PLAN_VARIABLE]: "1", ...mirrorEnvironment(scratch) };
    const output = run("npx", ["cdktf", "output", "staging", "--output", path.join(scratch, "output")], env);
    expect({ code: output.code, errors: output.output.match(/Error: .*/g) ?? [] }).toEqual({ code: 0, errors: [] });
  }, 180_000);

  it("without the switch, the stack keeps its S3 backend and real account check", () => {
    const outdir = path.join(scratch, "real");
    expect(run("npm", ["run", "--silent", "synth"], { CDKTF_OUTDIR: outdir, [OFFLINE_PLAN_VARIABLE]: "" }).code).toBe(0);
    const staging = JSON.parse(stackJson(outdir, "staging"));
    expect(Object.keys(staging.terraform.backend)).toEqual(["s3"]);
    expect(staging.provider.aws[0]).toEqual(expect.objectContaining({ allowed_account_ids: ["111111111111"] }));
    expect(staging.provider.aws[0].access_key).toBeUndefined();
  }, 120_000);
});
