import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, RegisterScalableTargetCommand } from "@aws-sdk/client-application-auto-scaling";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { BatchGetImageCommand, ECRClient, ImageAlreadyExistsException, PutImageCommand } from "@aws-sdk/client-ecr";
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  type Action,
  type Listener,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { COLORS, type Color } from "../config/release-manifest";
import { namePrefix, resourceNames } from "../config/names";
import { SERVER_CONTAINER } from "../constructs/mcp-service";
import { AwsError } from "./errors";
import type { AlarmState, ColorObservation, RolloutState, RunningTask, TargetSummary } from "./state-machine";

/** What the load balancer's listeners do now. */
export interface LiveListeners {
  /** Weights of the production listener; undefined when it does not forward to both colours. */
  readonly production?: Record<Color, number>;
  /** The colour the test listener sends everything to. */
  readonly test?: Color;
}

/** The one-off verify task: where ECS has it, and once stopped, how the server container exited. */
export interface VerifyTaskState {
  /** ECS's lastStatus: PROVISIONING, PENDING, RUNNING, ..., STOPPED. */
  readonly status: string;
  /** The server container's exit code, once it has one. */
  readonly exitCode?: number;
  /** Why ECS stopped the task or the container (image pull, out of memory, ...), when it says. */
  readonly reason?: string;
}

/** The AWS reads and writes a release needs, named by the stack's conventions (prefix mcp-<env>). */
/** What a verify task runs, over the colour's own task definition. */
export interface VerifyRun {
  /** The server container's command. */
  readonly command: string[];
  /** Variables added to the server container's; never a secret, as anyone who may describe the task reads them. */
  readonly environment?: Record<string, string>;
  /** The task role instead of the colour's (the verifier's, which alone may read its client secret). */
  readonly taskRoleArn?: string;
}

export interface ReleaseAws {
  /** ECS service, target health and composite alarm of one colour. */
  observe(color: Color): Promise<ColorObservation>;
  /** Weights of the production listener and the colour behind the test listener. */
  listeners(productionPort: number, testPort: number): Promise<LiveListeners>;
  /** DNS name of the load balancer, for the test listener URL. */
  loadBalancerDns(): Promise<string>;
  /**
   * Makes `tasks` the colour's minimum now, rather than when autoscaling next acts: the
   * autoscaling target's minimum when there is one (it scales out at once), else the service's
   * desired count (Terraform leaves that to autoscaling after creation). Returns what it did.
   */
  setTaskFloor(color: Color, tasks: number): Promise<string>;
  /**
   * Tags an ECR image pinned by digest with its releasedImageTag, which the repository's lifecycle
   * policy never expires, so a manifest's rollback target cannot disappear. Returns what it did.
   */
  protectImage(image: string): Promise<string>;
  /** Finds what moveTraffic needs (the production listener and the target groups) ahead of a decision, so that the move is one call. */
  prepareTrafficMove(productionPort: number): Promise<void>;
  /** Sets the production listener's weights at once with one ModifyListener call, ahead of Terraform. Returns what it did. */
  moveTraffic(weights: Record<Color, number>): Promise<string>;
  /**
   * Starts a one-off task from the colour's service: its current task definition, subnets and
   * security groups, with the server container's command replaced by `command`. Returns its ARN.
   */
  startVerifyTask(color: Color, run: VerifyRun): Promise<string>;
  /** Where a verify task is now. */
  verifyTask(taskArn: string): Promise<VerifyTaskState>;
  /** The server container's log lines of a verify task, oldest first. */
  verifyTaskLogs(color: Color, taskArn: string): Promise<string[]>;
  /** Stops a verify task the CLI gave up waiting for. */
  stopVerifyTask(taskArn: string, reason: string): Promise<void>;
}

export interface AwsClients {
  readonly elb: ElasticLoadBalancingV2Client;
  readonly ecs: ECSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly autoscaling: ApplicationAutoScalingClient;
  readonly ecr: ECRClient;
  readonly logs: CloudWatchLogsClient;
}

export function awsClients(region: string): AwsClients {
  return {
    elb: new ElasticLoadBalancingV2Client({ region }),
    ecs: new ECSClient({ region }),
    cloudwatch: new CloudWatchClient({ region }),
    autoscaling: new ApplicationAutoScalingClient({ region }),
    ecr: new ECRClient({ region }),
    logs: new CloudWatchLogsClient({ region }),
  };
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<digest>` */
const ECR_IMAGE_BY_DIGEST = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)@(sha256:[0-9a-f]{64})$/;

/** startedBy of verify tasks, so they are told apart from the services' own tasks. */
export const VERIFY_STARTED_BY = "mcp-release-verify";

const DRAINING = new Set(["draining", "unhealthy.draining"]);
const STARTING = new Set(["initial", "unused"]);

/** ReleaseAws over the AWS SDK v3; every failure becomes an AwsError naming the call. */
export class SdkReleaseAws implements ReleaseAws {
  private readonly prefix: string;
  private readonly taskDefinitions = new Map<string, { image?: string; task: RunningTask }>();
  private targetGroups?: Record<Color, string>;
  private productionListener?: { port: number; arn: string };

  constructor(
    environment: string,
    private readonly clients: AwsClients,
  ) {
    this.prefix = namePrefix(environment);
  }

  private get cluster(): string {
    return resourceNames.cluster(this.prefix);
  }

  private serviceName(color: Color): string {
    return resourceNames.service(this.prefix, color);
  }

  async observe(color: Color): Promise<ColorObservation> {
    const [service, targets, alarm] = await Promise.all([this.service(color), this.targetHealth(color), this.alarm(color)]);
    return { ...service, targets, alarm };
  }

  async listeners(productionPort: number, testPort: number): Promise<LiveListeners> {
    const [Listeners, groups] = await this.listenersAndTargetGroups();
    const colorOf = (arn?: string) => COLORS.find((c) => groups[c] === arn);
    const weightsOf = (actions: Action[] = []): Partial<Record<Color, number>> => {
      const forward = actions.find((a) => a.Type === "forward");
      if (!forward) return {};
      const split = forward.ForwardConfig?.TargetGroups ?? (forward.TargetGroupArn ? [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }] : []);
      const total = split.reduce((sum, g) => sum + (g.Weight ?? 1), 0) || 1;
      const weights: Partial<Record<Color, number>> = {};
      for (const group of split) {
        const color = colorOf(group.TargetGroupArn);
        if (color) weights[color] = Math.round((100 * (group.Weight ?? 1)) / total);
      }
      return weights;
    };
    const production = weightsOf(Listeners.find((l) => l.Port === productionPort)?.DefaultActions);
    const test = weightsOf(Listeners.find((l) => l.Port === testPort)?.DefaultActions);
    return {
      production: COLORS.some((c) => production[c] !== undefined) ? { blue: production.blue ?? 0, green: production.green ?? 0 } : undefined,
      test: COLORS.find((c) => (test[c] ?? 0) === 100),
    };
  }

  async loadBalancerDns(): Promise<string> {
    return (await this.loadBalancer()).dns;
  }

  async prepareTrafficMove(productionPort: number): Promise<void> {
    const [Listeners] = await this.listenersAndTargetGroups();
    const listener = Listeners.find((l) => l.Port === productionPort)?.ListenerArn;
    if (!listener) throw new AwsError("elbv2:DescribeListeners", new Error(`no listener on port ${productionPort} of ${resourceNames.loadBalancer(this.prefix)}; apply the stack first`));
    this.productionListener = { port: productionPort, arn: listener };
  }

  async moveTraffic(weights: Record<Color, number>): Promise<string> {
    if (!this.productionListener) throw new AwsError("elbv2:ModifyListener", new Error("prepareTrafficMove was not called"));
    const groups = await this.targetGroupArns();
    // The same forward action Terraform writes (blue-green-load-balancer.ts): the plan after it shows no listener change.
    const DefaultActions: Action[] = [{ Type: "forward", ForwardConfig: { TargetGroups: COLORS.map((c) => ({ TargetGroupArn: groups[c], Weight: weights[c] })) } }];
    await call("elbv2:ModifyListener", () => this.clients.elb.send(new ModifyListenerCommand({ ListenerArn: this.productionListener!.arn, DefaultActions })));
    return `production listener (port ${this.productionListener.port}): ${COLORS.map((c) => `${c} ${weights[c]}%`).join(", ")}, ahead of the apply`;
  }

  async startVerifyTask(color: Color, run: VerifyRun): Promise<string> {
    const service = await this.activeService(color);
    if (!service?.taskDefinition || !service.networkConfiguration) throw new AwsError("ecs:DescribeServices", new Error(`no service ${this.serviceName(color)}; apply the stack first`));
    // The service's own placement, so the task runs where the colour's tasks run and reaches what they reach.
    const placement = service.capacityProviderStrategy?.length ? { capacityProviderStrategy: service.capacityProviderStrategy } : { launchType: service.launchType ?? "FARGATE" };
    const { tasks = [], failures = [] } = await call("ecs:RunTask", () =>
      this.clients.ecs.send(
        new RunTaskCommand({
          cluster: this.cluster,
          taskDefinition: service.taskDefinition,
          count: 1,
          ...placement,
          platformVersion: service.platformVersion,
          networkConfiguration: service.networkConfiguration,
          startedBy: VERIFY_STARTED_BY,
          overrides: {
            containerOverrides: [{ name: SERVER_CONTAINER, command: run.command, ...(run.environment ? { environment: Object.entries(run.environment).map(([name, value]) => ({ name, value })) } : {}) }],
            ...(run.taskRoleArn ? { taskRoleArn: run.taskRoleArn } : {}),
          },
        }),
      ),
    );
    const arn = tasks[0]?.taskArn;
    if (!arn) throw new AwsError("ecs:RunTask", new Error(failures.map((f) => `${f.arn ?? "task"}: ${f.reason}${f.detail ? ` (${f.detail})` : ""}`).join("; ") || "no task started"));
    return arn;
  }

  async verifyTask(taskArn: string): Promise<VerifyTaskState> {
    const { tasks = [] } = await call("ecs:DescribeTasks", () => this.clients.ecs.send(new DescribeTasksCommand({ cluster: this.cluster, tasks: [taskArn] })));
    const task = tasks[0];
    if (!task) return { status: "MISSING" };
    const container = task.containers?.find((c) => c.name === SERVER_CONTAINER);
    const reason = [task.stoppedReason, container?.reason].filter(Boolean).join("; ");
    return { status: task.lastStatus ?? "UNKNOWN", ...(container?.exitCode !== undefined ? { exitCode: container.exitCode } : {}), ...(reason ? { reason } : {}) };
  }

  async verifyTaskLogs(color: Color, taskArn: string): Promise<string[]> {
    const taskId = taskArn.split("/").pop()!;
    const logStreamName = `${resourceNames.serviceLogStreamPrefix(color)}/${SERVER_CONTAINER}/${taskId}`;
    const events = await this.clients.logs.send(new GetLogEventsCommand({ logGroupName: resourceNames.serviceLogGroup(this.prefix, color), logStreamName, startFromHead: true })).then(
      (page) => page.events ?? [],
      (error: unknown) => {
        // A task that never started its container wrote no stream; its stopped reason says why.
        if (error instanceof ResourceNotFoundException) return [];
        throw new AwsError("logs:GetLogEvents", error);
      },
    );
    return events.map((e) => e.message ?? "").filter(Boolean);
  }

  async stopVerifyTask(taskArn: string, reason: string): Promise<void> {
    await call("ecs:StopTask", () => this.clients.ecs.send(new StopTaskCommand({ cluster: this.cluster, task: taskArn, reason })));
  }

  async protectImage(image: string): Promise<string> {
    const match = ECR_IMAGE_BY_DIGEST.exec(image);
    if (!match) return `${image} is not an ECR image pinned by digest: the lifecycle policy cannot be told to keep it`;
    const [, registryId, , repositoryName, imageDigest] = match;
    const tag = resourceNames.releasedImageTag(imageDigest!);
    const { images = [] } = await call("ecr:BatchGetImage", () => this.clients.ecr.send(new BatchGetImageCommand({ registryId, repositoryName, imageIds: [{ imageDigest }] })));
    const found = images[0];
    if (!found?.imageManifest) throw new AwsError("ecr:BatchGetImage", new Error(`no image ${imageDigest} in ${repositoryName}; push it first`));
    try {
      await this.clients.ecr.send(
        new PutImageCommand({ registryId, repositoryName, imageManifest: found.imageManifest, imageManifestMediaType: found.imageManifestMediaType, imageDigest, imageTag: tag }),
      );
    } catch (error) {
      // The tag names the digest, so an existing one is on this very image: a deploy of it again.
      if (!(error instanceof ImageAlreadyExistsException)) throw new AwsError("ecr:PutImage", error);
    }
    return `${repositoryName}@${imageDigest!.slice(0, 19)}... tagged ${tag}: kept by the lifecycle policy`;
  }

  async setTaskFloor(color: Color, tasks: number): Promise<string> {
    const resourceId = resourceNames.scalableTarget(this.cluster, this.serviceName(color));
    const dimension = "ecs:service:DesiredCount" as const;
    const { ScalableTargets = [] } = await call("application-autoscaling:DescribeScalableTargets", () =>
      this.clients.autoscaling.send(new DescribeScalableTargetsCommand({ ServiceNamespace: "ecs", ResourceIds: [resourceId], ScalableDimension: dimension })),
    );
    const target = ScalableTargets[0];
    if (target) {
      if (target.MinCapacity === tasks) return `${color}: autoscaling minimum already ${tasks}`;
      await call("application-autoscaling:RegisterScalableTarget", () =>
        this.clients.autoscaling.send(
          new RegisterScalableTargetCommand({
            ServiceNamespace: "ecs",
            ResourceId: resourceId,
            ScalableDimension: dimension,
            MinCapacity: tasks,
            MaxCapacity: Math.max(target.MaxCapacity ?? tasks, tasks),
          }),
        ),
      );
      return `${color}: autoscaling minimum ${target.MinCapacity} -> ${tasks}`;
    }
    const service = await this.service(color);
    if (service.desiredTasks === tasks) return `${color}: desired count already ${tasks}`;
    await call("ecs:UpdateService", () =>
      this.clients.ecs.send(new UpdateServiceCommand({ cluster: this.cluster, service: this.serviceName(color), desiredCount: tasks })),
    );
    return `${color}: desired count ${service.desiredTasks} -> ${tasks} (no autoscaling target)`;
  }

  private async activeService(color: Color) {
    const { services = [] } = await call("ecs:DescribeServices", () =>
      this.clients.ecs.send(new DescribeServicesCommand({ cluster: this.cluster, services: [this.serviceName(color)] })),
    );
    return services.find((s) => s.status === "ACTIVE");
  }

  private async service(color: Color): Promise<Omit<ColorObservation, "targets" | "alarm">> {
    const service = await this.activeService(color);
    if (!service) return { rollout: "missing", runningTasks: 0, desiredTasks: 0 };
    const deployments = service.deployments ?? [];
    const primary = deployments.find((d) => d.status === "PRIMARY");
    const failed = deployments.find((d) => d.rolloutState === "FAILED");
    let rollout: RolloutState;
    if (failed) rollout = "failed";
    else if (primary?.rolloutState === "COMPLETED" || (primary && !primary.rolloutState && deployments.length === 1)) rollout = "completed";
    else rollout = primary ? "in-progress" : "missing";
    const reason = (failed ?? primary)?.rolloutStateReason;
    const running = primary?.taskDefinition ? await this.taskDefinition(primary.taskDefinition) : undefined;
    return {
      runningImage: running?.image,
      ...(running ? { runningTask: running.task } : {}),
      rollout,
      ...(reason && rollout !== "completed" ? { rolloutReason: reason } : {}),
      runningTasks: service.runningCount ?? 0,
      desiredTasks: service.desiredCount ?? 0,
    };
  }

  /** The server container's image and the task settings a revision holds; revisions never change, so each is read once. */
  private async taskDefinition(taskDefinition: string): Promise<{ image?: string; task: RunningTask }> {
    const known = this.taskDefinitions.get(taskDefinition);
    if (known) return known;
    const { taskDefinition: definition } = await call("ecs:DescribeTaskDefinition", () =>
      this.clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition })),
    );
    const containers = definition?.containerDefinitions ?? [];
    const server = containers.find((c) => c.name === SERVER_CONTAINER) ?? containers[0];
    const environment = Object.fromEntries((server?.environment ?? []).map((e) => [e.name ?? "", e.value ?? ""]));
    const read = { image: server?.image, task: { cpu: Number(definition?.cpu), memory: Number(definition?.memory), environment } };
    this.taskDefinitions.set(taskDefinition, read);
    return read;
  }

  private async targetHealth(color: Color): Promise<TargetSummary> {
    const arn = (await this.targetGroupArns())[color];
    const { TargetHealthDescriptions = [] } = await call("elbv2:DescribeTargetHealth", () =>
      this.clients.elb.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
    );
    const summary = { healthy: 0, starting: 0, unhealthy: 0, draining: 0, reasons: [] as string[] };
    for (const { Target, TargetHealth } of TargetHealthDescriptions) {
      const state = TargetHealth?.State ?? "unavailable";
      if (state === "healthy") summary.healthy += 1;
      else if (DRAINING.has(state)) summary.draining += 1;
      else {
        if (STARTING.has(state)) summary.starting += 1;
        else summary.unhealthy += 1;
        summary.reasons.push(`${Target?.Id ?? "?"}: ${state}${TargetHealth?.Reason ? ` (${TargetHealth.Reason})` : ""}`);
      }
    }
    return summary;
  }

  private async alarm(color: Color): Promise<AlarmState> {
    const name = resourceNames.unhealthyAlarm(this.serviceName(color));
    // Without AlarmTypes, DescribeAlarms returns metric alarms only and never the composite one.
    const { CompositeAlarms = [], MetricAlarms = [] } = await call("cloudwatch:DescribeAlarms", () =>
      this.clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name], AlarmTypes: ["CompositeAlarm", "MetricAlarm"] })),
    );
    return (CompositeAlarms[0]?.StateValue ?? MetricAlarms[0]?.StateValue ?? "MISSING") as AlarmState;
  }

  /** The load balancer's listeners, and the colours' target groups (found alongside, and kept). */
  private async listenersAndTargetGroups(): Promise<[Listener[], Record<Color, string>]> {
    const [lb, groups] = await Promise.all([this.loadBalancer(), this.targetGroupArns()]);
    const { Listeners = [] } = await call("elbv2:DescribeListeners", () => this.clients.elb.send(new DescribeListenersCommand({ LoadBalancerArn: lb.arn })));
    return [Listeners, groups];
  }

  private async targetGroupArns(): Promise<Record<Color, string>> {
    if (this.targetGroups) return this.targetGroups;
    const names = COLORS.map((c) => resourceNames.targetGroup(this.prefix, c));
    const { TargetGroups = [] } = await call("elbv2:DescribeTargetGroups", () => this.clients.elb.send(new DescribeTargetGroupsCommand({ Names: names })));
    const arnOf = (name: string) => {
      const arn = TargetGroups.find((g) => g.TargetGroupName === name)?.TargetGroupArn;
      if (!arn) throw new AwsError("elbv2:DescribeTargetGroups", new Error(`no target group ${name}; apply the stack first`));
      return arn;
    };
    this.targetGroups = { blue: arnOf(names[0]), green: arnOf(names[1]) };
    return this.targetGroups;
  }

  private async loadBalancer(): Promise<{ arn: string; dns: string }> {
    const { LoadBalancers = [] } = await call("elbv2:DescribeLoadBalancers", () => this.clients.elb.send(new DescribeLoadBalancersCommand({ Names: [resourceNames.loadBalancer(this.prefix)] })));
    const lb = LoadBalancers[0];
    if (!lb?.LoadBalancerArn || !lb.DNSName) throw new AwsError("elbv2:DescribeLoadBalancers", new Error(`no load balancer ${resourceNames.loadBalancer(this.prefix)}; apply the stack first`));
    return { arn: lb.LoadBalancerArn, dns: lb.DNSName };
  }
}

async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (error instanceof AwsError) throw error;
    throw new AwsError(operation, error);
  }
}
