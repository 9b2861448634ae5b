import * as fs from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { loadEnvironment, parseReleaseManifest } from "../../config/load";
import type { EnvironmentConfigInput, TaskSettings } from "../../config/schema";
import { taskSettings } from "../../stacks/task-settings";
import { COLORS, type Color, type ReleaseManifest } from "../../config/release-manifest";
import type { LiveListeners, ReleaseAws, VerifyRun, VerifyTaskState } from "../../release/aws";
import type { CliDependencies } from "../../release/cli";
import type { Clock } from "../../release/clock";
import type { ReleaseRecorder } from "../../release/git";
import type { ColorObservation } from "../../release/state-machine";
import type { StackApplier } from "../../release/terraform";

const REPO_CONFIG = path.resolve(__dirname, "..", "..", "config");

/** A real-looking account: the release CLI refuses to apply example accounts (config/deployable.ts). */
export const ACCOUNT = "493817265530";
export const DIGEST_A = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mcp-server@sha256:${"a".repeat(64)}`;
export const DIGEST_B = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mcp-server@sha256:${"b".repeat(64)}`;
export const TAGGED = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/mcp-server:1.4.0`;

/** The task settings the repository's staging config asks for: what a deploy records for the idle colour. */
export const TASK: TaskSettings = taskSettings(loadEnvironment("staging", REPO_CONFIG).config);

/** The task counts and release policy the tests assume, laid over the repository's staging config. */
export const TEST_POLICY = {
  service: { minTasks: 2, maxTasks: 6, idleMinTasks: 1 },
  release: { steps: [10, 50, 100], bakeSeconds: 300, healthyTimeoutSeconds: 600 },
};

/** A throwaway config folder: the repository's staging config with TEST_POLICY, and a staging manifest of our choosing. */
export function tempConfig(manifest: ReleaseManifest): { dir: string; file: string; read: () => ReleaseManifest; remove: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "release-test-"));
  const dir = path.join(root, "config");
  fs.mkdirSync(path.join(dir, "releases"), { recursive: true });
  fs.mkdirSync(path.join(dir, "environments"), { recursive: true });
  const staging = JSON.parse(fs.readFileSync(path.join(REPO_CONFIG, "environments", "staging.json"), "utf8"));
  const patched = {
    ...staging,
    // What an operator sets before a first deploy: their account and someone who reads the alarms.
    aws: { ...staging.aws, accountId: ACCOUNT },
    alarms: { ...staging.alarms, emails: ["oncall@acme-corp.io"] },
    service: { ...staging.service, ...TEST_POLICY.service },
    release: TEST_POLICY.release,
  };
  fs.writeFileSync(path.join(dir, "environments", "staging.json"), JSON.stringify(patched, null, 2));
  const file = path.join(dir, "releases", "staging.json");
  fs.writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    dir,
    file,
    read: () => parseReleaseManifest(JSON.parse(fs.readFileSync(file, "utf8")), file),
    remove: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** Changes a tempConfig folder's staging config in place, as an operator edits it between releases. */
export function editConfig(dir: string, edit: (staging: EnvironmentConfigInput) => void): void {
  const file = path.join(dir, "environments", "staging.json");
  const staging: EnvironmentConfigInput = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(staging);
  fs.writeFileSync(file, JSON.stringify(staging, null, 2));
}

/** blue stable at 100% on DIGEST_A, green idle on DIGEST_A. */
export function settledManifest(overrides: Partial<Record<Color, Partial<ReleaseManifest["colors"][Color]>>> = {}, stable: Color = "blue"): ReleaseManifest {
  return parseReleaseManifest({
    environment: "staging",
    stable,
    colors: {
      blue: { image: DIGEST_A, version: "1.3.0", weight: stable === "blue" ? 100 : 0, task: TASK, ...overrides.blue },
      green: { image: DIGEST_A, version: "1.3.0", weight: stable === "green" ? 100 : 0, task: TASK, ...overrides.green },
    },
  });
}

/** A healthy colour running `image` with `tasks` tasks. */
export function healthy(image: string, tasks = 2, alarm: ColorObservation["alarm"] = "OK"): ColorObservation {
  return {
    runningImage: image,
    rollout: "completed",
    runningTasks: tasks,
    desiredTasks: tasks,
    targets: { healthy: tasks, starting: 0, unhealthy: 0, draining: 0, reasons: [] },
    alarm,
  };
}

/** Time that moves only when the code under test sleeps. */
export class FakeClock implements Clock {
  private ms = Date.parse("2026-05-01T12:00:00Z");
  readonly sleeps: number[] = [];
  now(): Date {
    return new Date(this.ms);
  }
  async sleep(milliseconds: number): Promise<void> {
    this.sleeps.push(milliseconds);
    this.ms += milliseconds;
  }
  get elapsedSeconds(): number {
    return (this.ms - Date.parse("2026-05-01T12:00:00Z")) / 1000;
  }
}

/**
 * Stands in for Terraform: an apply "makes live" whatever the manifest file says at that moment,
 * so tests can compare the file with what was last applied. `failOn` makes chosen applies throw.
 */
export class FakeApplier implements StackApplier {
  readonly applied: ReleaseManifest[] = [];
  /** Every apply begun, failed or not, and every traffic move (FakeAws writes here too), in order. */
  readonly events: string[] = [];
  readonly planned: Array<ReleaseManifest | undefined> = [];
  failOn = new Set<number>();
  private applies = 0;

  constructor(private readonly readFile: () => ReleaseManifest) {}

  async plan(_environment: string, release?: ReleaseManifest): Promise<boolean> {
    this.planned.push(release);
    return true;
  }

  async apply(_environment: string, release?: ReleaseManifest): Promise<void> {
    this.applies += 1;
    const manifest = release ?? this.readFile();
    this.events.push(`apply ${manifest.colors.blue.weight}/${manifest.colors.green.weight}`);
    if (this.failOn.has(this.applies)) throw new Error(`terraform apply failed for staging (exit 1)`);
    this.applied.push(manifest);
  }

  /** What is live: the last manifest applied successfully. */
  get live(): ReleaseManifest | undefined {
    return this.applied[this.applied.length - 1];
  }
}

/**
 * AWS as the tests script it: each colour's observation is computed from what is live (the last
 * applied manifest) and the number of observations so far, so a test can say "green turns healthy
 * after three polls" or "green's alarm fires during the second bake".
 */
export class FakeAws implements ReleaseAws {
  readonly floors: Array<{ color: Color; tasks: number }> = [];
  readonly protected: string[] = [];
  readonly observations: Record<Color, number> = { blue: 0, green: 0 };
  behaviour: (color: Color, poll: number, live: ReleaseManifest) => ColorObservation;

  constructor(
    private readonly applier: FakeApplier,
    private readonly initial: ReleaseManifest,
  ) {
    this.behaviour = (color, _poll, live) => healthy(live.colors[color].image);
  }

  async observe(color: Color): Promise<ColorObservation> {
    this.observations[color] += 1;
    return this.behaviour(color, this.observations[color], this.applier.live ?? this.initial);
  }

  async listeners(): Promise<LiveListeners> {
    const live = this.applier.live ?? this.initial;
    return { production: { blue: live.colors.blue.weight, green: live.colors.green.weight }, test: COLORS.find((c) => c !== live.stable) };
  }

  async loadBalancerDns(): Promise<string> {
    return "mcp-staging-123.eu-west-1.elb.amazonaws.com";
  }

  /** Every AWS call that moves traffic or prepares to, in order, with the applies in between. */
  readonly trafficLog: string[] = [];

  async prepareTrafficMove(productionPort: number): Promise<void> {
    this.trafficLog.push(`prepare ${productionPort}`);
  }

  async moveTraffic(weights: Record<Color, number>): Promise<string> {
    this.trafficLog.push(`move ${weights.blue}/${weights.green} (applies so far: ${this.applier.applied.length})`);
    this.applier.events.push(`move ${weights.blue}/${weights.green}`);
    return `moved ${weights.blue}/${weights.green}`;
  }

  async protectImage(image: string): Promise<string> {
    this.protected.push(image);
    return `${image} tagged`;
  }

  async setTaskFloor(color: Color, tasks: number): Promise<string> {
    this.floors.push({ color, tasks });
    return `${color}: autoscaling minimum -> ${tasks}`;
  }

  /** Every verify task started: its colour and command. */
  readonly verifyTasks: Array<{ color: Color } & VerifyRun> = [];
  /** What the verify task does: the states its polls see, in order (the last repeats), and the log lines it wrote. */
  verifyRun: { states: VerifyTaskState[]; logs: string[] } = { states: [{ status: "RUNNING" }, { status: "STOPPED", exitCode: 0 }], logs: ['{"level":"info","msg":"verify: passed"}'] };
  readonly stoppedVerifyTasks: string[] = [];
  private verifyPolls = 0;

  async startVerifyTask(color: Color, run: VerifyRun): Promise<string> {
    this.verifyTasks.push({ color, ...run });
    this.verifyPolls = 0;
    return `arn:aws:ecs:eu-west-1:${ACCOUNT}:task/mcp-staging/${String(this.verifyTasks.length).padStart(32, "0")}`;
  }

  async verifyTask(): Promise<VerifyTaskState> {
    const { states } = this.verifyRun;
    return states[Math.min(this.verifyPolls++, states.length - 1)]!;
  }

  async verifyTaskLogs(): Promise<string[]> {
    return this.verifyRun.logs;
  }

  async stopVerifyTask(taskArn: string): Promise<void> {
    this.stoppedVerifyTasks.push(taskArn);
  }
}

export class MemoryRecorder implements ReleaseRecorder {
  readonly commits: Array<{ file: string; message: string; content: ReleaseManifest }> = [];
  async record(file: string, message: string): Promise<void> {
    this.commits.push({ file, message, content: parseReleaseManifest(JSON.parse(fs.readFileSync(file, "utf8"))) });
  }
}

/** A whole CLI run against a temp config folder, with fakes for AWS, Terraform and time. */
export function cliHarness(manifest: ReleaseManifest) {
  const config = tempConfig(manifest);
  const applier = new FakeApplier(config.read);
  const aws = new FakeAws(applier, manifest);
  const clock = new FakeClock();
  const recorder = new MemoryRecorder();
  const out: string[] = [];
  const err: string[] = [];
  const deps: CliDependencies = {
    configDir: config.dir,
    aws: () => aws,
    applier,
    recorder,
    clock,
    write: (line) => out.push(line),
    writeError: (line) => err.push(line),
  };
  return { config, applier, aws, clock, recorder, out, err, deps };
}

export interface InfoServer {
  readonly url: string;
  readonly requests: () => number;
  close(): Promise<void>;
}

/**
 * A real MCP server over real HTTP, stateless Streamable HTTP as the reference server runs it:
 * server_info answers `info` (as structured content and JSON text) and every response carries the
 * x-deployment-color / x-app-version headers.
 */
export async function startInfoServer(info: { version: string; color: string }, headers = info, options: { structured?: boolean } = {}): Promise<InfoServer> {
  let count = 0;
  const http: Server = createServer(async (req, res) => {
    count += 1;
    res.setHeader("x-deployment-color", headers.color);
    res.setHeader("x-app-version", headers.version);
    const server = new McpServer({ name: "info-server", version: info.version });
    server.registerTool("server_info", { description: "Version and colour of this task" }, async () => {
      const body = { name: "info-server", version: info.version, deploymentColor: info.color, uptimeSeconds: 1 };
      return { content: [{ type: "text", text: JSON.stringify(body) }], ...(options.structured ? { structuredContent: body } : {}) };
    });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    requests: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
