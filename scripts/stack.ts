import { Command } from "commander";
import { refuseExampleValues } from "../config/deployable";
import { AggregateConfigError, ConfigError, loadEnvironment } from "../config/load";
import { TerraformError, TerraformStackApplier } from "../release/terraform";

// `npm run diff -- <env>` and `npm run deploy -- <env>`: cdktf diff/deploy for one environment.
const program = new Command("stack").description("Plan or apply one environment's stack").showHelpAfterError();
const applier = new TerraformStackApplier();

program
  .command("diff")
  .argument("<environment>", "environment name (a file in config/environments)")
  .description("synthesize and show the Terraform plan")
  .option("--no-refresh", "plan against the recorded state without reading resources back (pull requests: their role may not read secrets)")
  .action(async (environment: string, options: { refresh: boolean }) => {
    const changes = await applier.plan(environment, undefined, { refresh: options.refresh });
    console.error(changes ? `${environment}: the plan has changes` : `${environment}: no changes`);
  });

program
  .command("deploy")
  .argument("<environment>", "environment name (a file in config/environments)")
  .description("synthesize, plan and apply that plan")
  .action(async (environment: string) => {
    const { config, release } = loadEnvironment(environment);
    // Example accounts, documentation ranges and unread alarms synthesize fine but must never reach AWS.
    refuseExampleValues(config, release);
    await applier.apply(environment);
  });

program.parseAsync().catch((error: unknown) => {
  if (!(error instanceof TerraformError || error instanceof AggregateConfigError || error instanceof ConfigError)) throw error;
  console.error(`error: ${error.message}`);
  process.exitCode = 1;
});
