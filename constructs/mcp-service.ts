import { SERVICE_DEFAULTS, withDefaults } from "../config/defaults";
import { Construct } from "constructs";
import { DefaultTokenResolver, StringConcat, TerraformStack, Tokenization } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { EcsTaskDefinition } from "@cdktf/provider-aws/lib/ecs-task-definition";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { Color } from "../config/release-manifest";
import { SECRET_LOOKING_NAME } from "../config/schema";
import { arnOf, resourceNames } from "../config/names";
import { serviceRole, type PolicyStatement } from "./iam";

/** An ECS container definition, as the task definition's JSON expects it. */
export type ContainerDefinition = Record<string, unknown> & { name: string; image: string };

export interface McpServiceProps {
  /** Prefix of every resource name. Required. */
  readonly name: string;
  /** Which colour this service is. Required. */
  readonly color: Color;
  /** Region, for the log driver. Required. */
  readonly region: string;
  /** ARN of the shared cluster. Required. */
  readonly clusterArn: string;
  /** VPC of the tasks. Required. */
  readonly vpcId: string;
  /** Private subnets the tasks run in. Required. */
  readonly subnetIds: string[];
  /** Target group of this colour. Required. */
  readonly targetGroupArn: string;
  /** Security group of the load balancer, the only source admitted to the container port. Required. */
  readonly loadBalancerSecurityGroupId: string;
  /** Image, pinned by digest or immutable tag. Required. */
  readonly image: string;
  /** Version the image reports (APP_VERSION). Required. */
  readonly version: string;
  /** Fargate CPU units. @default 512 */
  readonly cpu?: number;
  /** Fargate memory (MiB). @default 1024 */
  readonly memory?: number;
  /** Port of the MCP endpoint (PORT). @default 8080 */
  readonly containerPort?: number;
  /** Port of the Prometheus endpoint (METRICS_PORT), reachable only inside the task. @default 9464 */
  readonly metricsPort?: number;
  /** Tasks to start with; autoscaling owns the count afterwards. @default 1 */
  readonly desiredCount?: number;
  /** Plain environment variables; secret-looking names are refused. @default none */
  readonly environment?: Record<string, string>;
  /** Secrets Manager ARNs injected as environment variables by ECS. @default none */
  readonly secrets?: Record<string, string>;
  /** Seconds between SIGTERM and SIGKILL (Fargate allows 120 at most). @default 120 */
  readonly stopTimeoutSeconds?: number;
  /** Seconds load balancer health checks are ignored after a task starts. @default 60 */
  readonly healthCheckGracePeriodSeconds?: number;
  /** Container health check command, per the image contract. @default ["CMD", "node", "/app/dist/healthcheck.js"] */
  readonly healthCheckCommand?: string[];
  /** Days to keep the service's logs. @default 30 */
  readonly logRetentionDays?: number;
  /** KMS key (ARN) that encrypts the server's log group; its policy must let logs.<region>.amazonaws.com use it. @default CloudWatch Logs' own encryption */
  readonly logsKmsKeyArn?: string;
  /** Allow ECS Exec into tasks. @default false */
  readonly enableExecuteCommand?: boolean;
  /** TCP ports the tasks may reach inside the VPC (Redis). HTTPS (443) is always allowed out. @default none */
  readonly vpcEgressPorts?: number[];
  /** IPv4 range of the VPC, the destination of vpcEgressPorts. Required when vpcEgressPorts is set. */
  readonly vpcCidr?: string;
  /** Extra containers of the task, such as a telemetry collector, each with what it needs of the task. @default none */
  readonly sidecars?: Sidecar[];
  /** Extra permissions of the task role (those of the sidecars are added by themselves). @default none */
  readonly taskRoleStatements?: PolicyStatement[];
  /** ARN of the permissions boundary put on the task and execution roles. @default none */
  readonly permissionsBoundaryArn?: string;
  /** Paths the server may write on its otherwise read-only root filesystem, each an empty task volume. ECS Exec's agent paths are added when it is on. @default ["/tmp"] */
  readonly writablePaths?: string[];
  /** CPU architecture of the image. @default "X86_64" */
  readonly cpuArchitecture?: "X86_64" | "ARM64";
}

/** A container beside the server, and what it brings to the task: task role permissions, and variables the server needs to reach it. */
export interface Sidecar {
  readonly container: ContainerDefinition;
  readonly taskRoleStatements?: PolicyStatement[];
  readonly environment?: Record<string, string>;
  /** Empty task volumes the container mounts (its writable paths on a read-only root). */
  readonly volumes?: string[];
}

export const SERVER_CONTAINER = "mcp-server";

/**
 * `given` with the variables a construct sets itself (`own`) added, refusing a name in both: a
 * silently replaced variable would make the task differ from the settings a release recorded.
 */
export function withOwnVariables(who: string, given: Readonly<Record<string, string>>, own: Readonly<Record<string, string>>): Record<string, string> {
  const clash = Object.keys(own).filter((key) => key in given);
  if (clash.length > 0) throw new Error(`${who} sets ${clash.join(", ")} itself; remove ${clash.length > 1 ? "them" : "it"} from the environment you give (service.environment in the config)`);
  return { ...given, ...own };
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repo>` -> the repository ARN, for a pull policy scoped to it. */
export function ecrRepositoryArn(image: string): string | undefined {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(image);
  return match ? arnOf(match[2]!, "ecr", match[2]!, match[1]!, `repository/${match[3]}`) : undefined;
}

/**
 * One colour's ECS Fargate service: a task definition that keeps the image contract (ports,
 * health check, stop timeout, read-only root filesystem, secrets from Secrets Manager), least-
 * privilege task and execution roles, a log group, and a deployment circuit breaker with rollback.
 */
export class McpService extends Construct {
  public readonly service: EcsService;
  public readonly taskDefinition: EcsTaskDefinition;
  public readonly securityGroup: SecurityGroup;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly serviceName: string;

  constructor(scope: Construct, id: string, props: McpServiceProps) {
    super(scope, id);
    const { name, color } = props;
    const o = withDefaults(SERVICE_DEFAULTS, props);
    const { containerPort, metricsPort } = o;
    const secrets = props.secrets ?? {};
    const sidecars = props.sidecars ?? [];
    const environment = withOwnVariables(`McpService ${id}`, props.environment ?? {}, Object.assign({}, ...sidecars.map((s) => s.environment)) as Record<string, string>);
    const stopTimeout = o.stopTimeoutSeconds;
    // The SSM agent that ECS Exec runs in the container writes its state and logs here.
    const execPaths = o.enableExecuteCommand ? ["/var/lib/amazon/ssm", "/var/log/amazon/ssm"] : [];
    const writable = [...new Set([...(props.writablePaths ?? ["/tmp"]), ...execPaths])].map((path) => ({ path, volume: path.replace(/^\/+/, "").replace(/[^A-Za-z0-9]+/g, "-") || "root" }));
    const leaked = Object.keys(environment).filter((key) => SECRET_LOOKING_NAME.test(key));
    if (leaked.length > 0) throw new Error(`McpService ${id}: ${leaked.join(", ")} look like secrets; pass them in secrets (Secrets Manager ARNs), not environment`);
    if ((props.vpcEgressPorts ?? []).length > 0 && !props.vpcCidr) throw new Error(`McpService ${id}: vpcEgressPorts needs vpcCidr`);
    this.serviceName = resourceNames.service(name, color);

    this.logGroup = new CloudwatchLogGroup(this, "logs", { name: resourceNames.serviceLogGroup(name, color), retentionInDays: o.logRetentionDays, kmsKeyId: props.logsKmsKeyArn });
    this.securityGroup = this.makeSecurityGroup(props, containerPort);

    const server: ContainerDefinition = {
      name: SERVER_CONTAINER,
      image: props.image,
      essential: true,
      portMappings: [
        { name: "http", containerPort, protocol: "tcp" },
        { name: "metrics", containerPort: metricsPort, protocol: "tcp" },
      ],
      environment: Object.entries(
        withOwnVariables(`McpService ${id}`, environment, {
          PORT: String(containerPort),
          METRICS_PORT: String(metricsPort),
          DEPLOYMENT_COLOR: color,
          APP_VERSION: props.version,
          // The server exits a second before ECS would SIGKILL it: always the container's stopTimeout.
          STOP_TIMEOUT_SECONDS: String(stopTimeout),
        }),
      )
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => ({ name: key, value })),
      secrets: Object.entries(secrets).map(([key, arn]) => ({ name: key, valueFrom: arn })),
      // Sidecars (the collector) start first and stop last, so the drain window's telemetry is kept.
      ...(sidecars.length > 0 ? { dependsOn: sidecars.map((s) => ({ containerName: s.container.name, condition: "START" })) } : {}),
      readonlyRootFilesystem: true,
      mountPoints: writable.map((w) => ({ sourceVolume: w.volume, containerPath: w.path, readOnly: false })),
      stopTimeout,
      healthCheck: {
        command: [...o.healthCheckCommand],
        interval: 15,
        timeout: 5,
        retries: 3,
        startPeriod: 20,
      },
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": this.logGroup.name,
          "awslogs-region": props.region,
          "awslogs-stream-prefix": resourceNames.serviceLogStreamPrefix(color),
          // A full log buffer must never block the server; it drops lines instead.
          mode: "non-blocking",
          "max-buffer-size": "25m",
        },
      },
    };

    const containers = [server, ...sidecars.map((s) => s.container)];
    const repository = ecrRepositoryArn(props.image);
    const executionRole = serviceRole(this, "execution-role", {
      name: `${this.serviceName}-execution`,
      service: "ecs-tasks.amazonaws.com",
      permissionsBoundary: props.permissionsBoundaryArn,
      statements: [
        ...(repository
          ? [
              // GetAuthorizationToken has no resource-level permissions; the pull itself is scoped to the repository.
              { actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
              { actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"], resources: [repository] },
            ]
          : []),
        // Fargate creates each container's log stream with this role; one missing group fails the whole task.
        { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: containers.map((c) => `${awslogsGroupArn(this, c)}:*`) },
        ...(Object.keys(secrets).length > 0 ? [{ actions: ["secretsmanager:GetSecretValue"], resources: Object.values(secrets) }] : []),
      ],
    });
    const taskRole = serviceRole(this, "task-role", {
      name: `${this.serviceName}-task`,
      service: "ecs-tasks.amazonaws.com",
      permissionsBoundary: props.permissionsBoundaryArn,
      statements: [
        ...sidecars.flatMap((s) => s.taskRoleStatements ?? []),
        ...(props.taskRoleStatements ?? []),
        ...(o.enableExecuteCommand
          ? [{ actions: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"], resources: ["*"] }]
          : []),
      ],
    });

    this.taskDefinition = new EcsTaskDefinition(this, "task", {
      family: this.serviceName,
      requiresCompatibilities: ["FARGATE"],
      networkMode: "awsvpc",
      cpu: String(o.cpu),
      memory: String(o.memory),
      runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: o.cpuArchitecture },
      executionRoleArn: executionRole.arn,
      taskRoleArn: taskRole.arn,
      volume: [...writable.map((w) => w.volume), ...sidecars.flatMap((s) => s.volumes ?? [])].map((volume) => ({ name: volume })),
      containerDefinitions: JSON.stringify(containers),
    });

    this.service = new EcsService(this, "service", {
      name: this.serviceName,
      cluster: props.clusterArn,
      taskDefinition: this.taskDefinition.arn,
      desiredCount: o.desiredCount,
      launchType: "FARGATE",
      platformVersion: "1.4.0",
      networkConfiguration: { subnets: props.subnetIds, securityGroups: [this.securityGroup.id], assignPublicIp: false },
      loadBalancer: [{ targetGroupArn: props.targetGroupArn, containerName: SERVER_CONTAINER, containerPort }],
      healthCheckGracePeriodSeconds: o.healthCheckGracePeriodSeconds,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      deploymentMinimumHealthyPercent: 100,
      deploymentMaximumPercent: 200,
      enableExecuteCommand: o.enableExecuteCommand,
      enableEcsManagedTags: true,
      propagateTags: "SERVICE",
      tags: { Color: color },
      // Autoscaling owns the task count once the service exists.
      lifecycle: { ignoreChanges: ["desired_count"] },
    });
  }

  private makeSecurityGroup(props: McpServiceProps, containerPort: number): SecurityGroup {
    const sg = new SecurityGroup(this, "sg", {
      name: `${this.serviceName}-tasks`,
      description: `MCP server tasks (${props.color}): the load balancer in, HTTPS and VPC services out`,
      vpcId: props.vpcId,
      tags: { Name: `${this.serviceName}-tasks` },
    });
    new VpcSecurityGroupIngressRule(this, "from-load-balancer", {
      securityGroupId: sg.id,
      description: "MCP traffic from the load balancer",
      ipProtocol: "tcp",
      fromPort: containerPort,
      toPort: containerPort,
      referencedSecurityGroupId: props.loadBalancerSecurityGroupId,
    });
    new VpcSecurityGroupEgressRule(this, "https-out", {
      securityGroupId: sg.id,
      description: "HTTPS to AWS APIs, ECR and the upstream",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: "0.0.0.0/0",
    });
    for (const port of props.vpcEgressPorts ?? []) {
      new VpcSecurityGroupEgressRule(this, `vpc-${port}-out`, {
        securityGroupId: sg.id,
        description: `TCP ${port} inside the VPC`,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: props.vpcCidr!,
      });
    }
    return sg;
  }
}

/**
 * The ARN of the log group a container's awslogs driver writes to, found among the stack's own log
 * groups, so the execution role's grant follows the container's log configuration.
 */
function awslogsGroupArn(scope: Construct, container: ContainerDefinition): string {
  const logConfiguration = container.logConfiguration as { logDriver?: string; options?: Record<string, string> } | undefined;
  const group = logConfiguration?.logDriver === "awslogs" ? logConfiguration.options?.["awslogs-group"] : undefined;
  if (!group) throw new Error(`McpService: container ${container.name} must log with the awslogs driver to a log group of this stack`);
  const stack = TerraformStack.of(scope);
  // Each read of a token attribute is a new token; resolved, both name the same resource attribute.
  const resolve = (value: string) => Tokenization.resolve(value, { scope: stack, preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) });
  const wanted = resolve(group);
  const declared = stack.node.findAll().find((c): c is CloudwatchLogGroup => c instanceof CloudwatchLogGroup && resolve(c.name) === wanted);
  if (!declared) throw new Error(`McpService: container ${container.name} logs to ${group}, which this stack does not declare; create it with CloudwatchLogGroup`);
  return declared.arn;
}
