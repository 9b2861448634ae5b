import { spawnSync } from "node:child_process";
import { Command } from "commander";
import { refuseExampleValues } from "../config/deployable";
import { reportOperatorError } from "../config/errors";
import { loadEnvironment } from "../config/load";
import { lockArguments, TerraformError, TerraformStackApplier } from "../release/terraform";

// `npm run diff -- <env> [--no-refresh]`: a plan of one environment, which `cdktf diff` cannot make
// without refreshing (pull requests must not: see the README). `npm run deploy -- <env>`: the
// example-value check, then `cdktf deploy <env> --auto-approve`.
const program = new Command("stack").description("Plan or apply one environment's stack").showHelpAfterError();
const applier = new TerraformStackApplier();

program
  .command("diff")
  .argument("<environment>", "environment name (a file in config/environments)")
  .description("synthesize and show the Terraform plan")
  .option("--no-refresh", "plan against the recorded state without reading resources back (pull requests: their role may not read secrets)")
  .option("--no-lock", "plan without taking the state lock (pull requests: their role may not write it, and a release must not wait on them)")
  .option("--detailed-exitcode", "exit 2 when the plan has changes, as terraform plan -detailed-exitcode does (the drift check)")
  .action(async (environment: string, options: { refresh: boolean; lock: boolean; detailedExitcode?: boolean }) => {
    const changes = await applier.plan(environment, undefined, { refresh: options.refresh, lock: options.lock });
    console.error(changes ? `${environment}: the plan has changes` : `${environment}: no changes`);
    if (changes && options.detailedExitcode) process.exitCode = 2;
  });

program
  .command("deploy")
  .argument("<environment>", "environment name (a file in config/environments)")
  .description("refuse example values, then cdktf deploy <environment> --auto-approve")
  .action((environment: string) => {
    const { config, release } = loadEnvironment(environment);
    // Example accounts, documentation ranges and unread alarms synthesize fine but must never reach AWS.
    refuseExampleValues(config, release);
    // cdktf deploy passes no lock flag of its own: Terraform reads these for the plan and apply it runs.
    const lock = lockArguments(true, config.release.lockTimeoutSeconds).join(" ");
    const deploy = spawnSync("cdktf", ["deploy", environment, "--auto-approve"], { stdio: "inherit", env: { ...process.env, TF_CLI_ARGS_plan: lock, TF_CLI_ARGS_apply: lock } });
    if (deploy.error) throw new TerraformError(`could not run cdktf: ${deploy.error.message}`);
    process.exitCode = deploy.status ?? 1;
  });

program.parseAsync().catch((error: unknown) => {
  process.exitCode = reportOperatorError(error);
});
