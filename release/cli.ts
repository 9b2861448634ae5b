import { Command, CommanderError } from "commander";
import { reportOperatorError } from "../config/errors";
import { CONFIG_DIR, loadEnvironment } from "../config/load";
import { awsClients, SdkReleaseAws, type ReleaseAws } from "./aws";
import { systemClock, type Clock } from "./clock";
import { refuseExampleValues } from "../config/deployable";
import { deploy } from "./commands/deploy";
import { promote } from "./commands/promote";
import { rollback } from "./commands/rollback";
import { settings } from "./commands/settings";
import { status } from "./commands/status";
import { verify } from "./commands/verify";
import type { ReleaseContext } from "./context";
import { GitRecorder, type ReleaseRecorder } from "./git";
import { manifestStore } from "./manifest-store";
import { Reporter } from "./report";
import { TerraformStackApplier, type StackApplier } from "./terraform";

/** The parts a command runs with; tests replace the ones that reach AWS, Terraform or time. */
export interface CliDependencies {
  readonly configDir: string;
  aws(environment: string, region: string): ReleaseAws;
  readonly applier: StackApplier;
  readonly recorder: ReleaseRecorder;
  readonly clock: Clock;
  readonly write: (line: string) => void;
  readonly writeError: (line: string) => void;
}

export const defaultDependencies = (): CliDependencies => ({
  configDir: CONFIG_DIR,
  aws: (environment, region) => new SdkReleaseAws(environment, awsClients(region)),
  applier: new TerraformStackApplier(undefined, undefined, CONFIG_DIR),
  recorder: new GitRecorder(),
  clock: systemClock,
  write: (line) => process.stdout.write(`${line}\n`),
  writeError: (line) => process.stderr.write(`${line}\n`),
});

interface CommonOptions {
  env: string;
  fromHere?: boolean;
  dryRun?: boolean;
  commit?: boolean;
}

const FROM_HERE = "verify from this machine (it must be in loadBalancer.testListenerCidrs) instead of from a one-off task in the VPC";

/** `npm run release -- <command> --env <env>`: blue/green releases driven by the release manifest. */
export function buildProgram(deps: CliDependencies): Command {
  const program = new Command("release")
    .description("Blue/green releases: each step writes config/releases/<env>.json and applies the environment's stack")
    .showHelpAfterError()
    // Throw instead of exiting (inherited by each command made below), so main() decides the exit code.
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.write(s.trimEnd()), writeErr: (s) => deps.writeError(s.trimEnd()) });

  const context = (options: CommonOptions & { url?: string }): ReleaseContext => {
    const { config } = loadEnvironment(options.env, deps.configDir);
    const out = new Reporter(deps.clock, deps.write);
    const token = process.env.MCP_VERIFY_TOKEN;
    return {
      environment: options.env,
      config,
      store: manifestStore(options.env, deps.configDir),
      aws: deps.aws(options.env, config.aws.region),
      applier: deps.applier,
      clock: deps.clock,
      out,
      dryRun: options.dryRun ?? false,
      recorder: options.commit && !options.dryRun ? deps.recorder : undefined,
      testUrl: options.url,
      verifyOptions: token ? { bearerToken: token } : undefined,
      verifyFromHere: options.fromHere ?? false,
    };
  };

  const command = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .requiredOption("--env <env>", "environment (a file in config/environments)")
      .option("--dry-run", "print the manifest change and the Terraform plan; apply and write nothing")
      .option("--commit", "git-commit the manifest after each successful apply");

  command("status", "the manifest next to what is live: listener weights, targets, tasks, alarms").action((o: CommonOptions) => status(context(o)));

  command("deploy", "put an image on the idle colour, wait for healthy targets, then verify")
    .requiredOption("--image <ref>", "image pinned by digest (repo@sha256:...) or immutable tag (repo:1.4.0); never latest")
    .option("--version <version>", "version the image reports (default: its tag, else the short digest)")
    .option("--url <url>", "test listener MCP URL (default: http(s)://<loadBalancer.hostName or ALB DNS>:<testListenerPort>/mcp)")
    .option("--from-here", FROM_HERE)
    .action((o: CommonOptions & { image: string; version?: string; url?: string }) => {
      const ctx = context(o);
      // Example accounts, documentation ranges and unread alarms synthesize fine but must never reach AWS.
      if (!ctx.dryRun) refuseExampleValues(ctx.config, ctx.store.read());
      return deploy(ctx, { image: o.image, version: o.version });
    });

  command("verify", "check the idle colour through the test listener with an MCP client, from a one-off task in the VPC")
    .option("--url <url>", "test listener MCP URL (default: http(s)://<loadBalancer.hostName or ALB DNS>:<testListenerPort>/mcp)")
    .option("--from-here", FROM_HERE)
    .action((o: CommonOptions & { url?: string }) => verify(context(o)));

  command("promote", "shift traffic to the idle colour in steps, baking and watching its alarm; roll back on trouble").action((o: CommonOptions) =>
    promote(context(o)),
  );

  command("rollback", "all traffic back to the stable colour: one ModifyListener call, then the apply that records it").action((o: CommonOptions) => rollback(context(o)));

  command("settings", "each colour's recorded task settings next to the config's; --both-colours records the config's for both at once")
    .option("--both-colours", "change both colours now: ECS replaces the live colour's tasks in place, outside any traffic shift")
    .action((o: CommonOptions & { bothColours?: boolean }) => {
      const ctx = context(o);
      // It applies, like deploy: never to an example account or with alarms nobody reads.
      if (o.bothColours && !ctx.dryRun) refuseExampleValues(ctx.config, ctx.store.read());
      return settings(ctx, { bothColours: o.bothColours ?? false });
    });

  return program;
}

/** Runs the CLI; resolves to the exit code. Expected failures print one line; bugs keep their stack. */
export async function main(argv: readonly string[], deps: CliDependencies = defaultDependencies()): Promise<number> {
  try {
    await buildProgram(deps).parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    return reportOperatorError(error, deps.writeError);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
