import { SERVER_MAX_BODY_BYTES, TASK_COUNT_DEFAULTS, withDefaults } from "../config/defaults";
import { Annotations } from "cdktf";
import { Construct } from "constructs";
import { namePrefix } from "../config/names";
import { candidateColor, COLORS, minimumTasks, type Color, type ReleaseManifest } from "../config/release-manifest";
import { AlarmTopic } from "./alarm-topic";
import { BlueGreenLoadBalancer, type BlueGreenLoadBalancerProps } from "./blue-green-load-balancer";
import { ColorDeployment, type ColorAlarmOptions, type ColorScalingOptions, type ColorServiceOptions, type ColorTelemetryOptions } from "./color-deployment";
import { EdgeFirewall, type EdgeFirewallProps } from "./edge-firewall";
import { LoadBalancerAlarms } from "./load-balancer-alarms";
import { LogEncryptionKey } from "./log-encryption-key";
import { McpDashboard } from "./mcp-dashboard";
import { withOwnVariables } from "./mcp-service";
import { Network, type NetworkProps } from "./network";
import { RedisAlarms } from "./redis-alarms";
import { RedisCache, type RedisCacheProps } from "./redis-cache";
import { ServiceCluster } from "./service-cluster";
import { VerifierRole } from "./verifier-role";

export interface McpDeploymentServiceOptions extends ColorServiceOptions {
  /** Fewest tasks of a colour that takes traffic. @default 2 */
  readonly minTasks?: number;
  /** Fewest tasks of a colour without traffic. @default 1 */
  readonly idleMinTasks?: number;
  /** Most tasks of a colour. @default 10 */
  readonly maxTasks?: number;
  /** Host names the server accepts in Host, besides the load balancer's DNS name and `hostName`. @default none */
  readonly allowedHosts?: string[];
}

export interface McpDeploymentAlarmOptions extends Partial<Omit<ColorAlarmOptions, "topicArn">> {
  /** Email addresses subscribed to the alarm topic. @default none */
  readonly emails?: string[];
  /** HTTPS endpoints subscribed to the alarm topic. @default none */
  readonly httpsEndpoints?: string[];
  /** Load balancer 5xx responses per period that alarm. @default LoadBalancerAlarms' default */
  readonly elb5xxCount?: number;
  /** Rejected connections per period that alarm. @default LoadBalancerAlarms' default */
  readonly rejectedConnections?: number;
  /** Redis thresholds. @default RedisAlarms' defaults */
  readonly redisEngineCpuPercent?: number;
  readonly redisCpuPercent?: number;
  readonly redisMemoryPercent?: number;
  readonly redisEvictions?: number;
  readonly redisReplicationLagSeconds?: number;
  readonly redisConnections?: number;
}

/** The web ACL's settings; its alarm's window and topic are the deployment's. */
export type McpDeploymentFirewallOptions = Omit<EdgeFirewallProps, "name" | "region" | "loadBalancerArn" | "logsKmsKeyArn" | "topicArn" | "periodSeconds" | "evaluationPeriods" | "datapointsToAlarm">;

/** A VPC that exists already: its id and CIDR, and its subnets (the load balancer's and the tasks'). */
export interface ExistingNetwork {
  readonly vpcId: string;
  readonly vpcCidr: string;
  /** Subnets of an internet-facing load balancer; unused when it is internal. */
  readonly publicSubnetIds: string[];
  /** Subnets of the tasks and the cache (and of an internal load balancer), with a route out for the image pull and the upstream. */
  readonly privateSubnetIds: string[];
  /** Public IPs the private subnets reach the internet from (their NAT gateways), admitted to the test listener for in-VPC verification. @default none: only testListenerCidrs */
  readonly natPublicIps?: string[];
}

export interface McpDeploymentProps {
  /** Environment name; every resource is named `mcp-<environment>-...`. Required. */
  readonly environment: string;
  /** Region and account of the environment. Required. */
  readonly region: string;
  readonly accountId: string;
  /** The VPC to build (CIDR, zones and subnets), or one that exists already. Required. */
  readonly network: Omit<NetworkProps, "name" | "region" | "permissionsBoundaryArn"> | ExistingNetwork;
  /** What each colour runs and how traffic is split: the release manifest. A colour's `task` settings, when recorded, replace the shared `service`, `serverEnvironment` and `telemetry` settings for that colour. Required. */
  readonly release: ReleaseManifest;
  /** The load balancer: who may reach the test listener, and TLS. Required (testListenerCidrs). */
  readonly loadBalancer: Omit<BlueGreenLoadBalancerProps, "name" | "region" | "vpcId" | "vpcCidr" | "publicSubnetIds" | "weights" | "testColor" | "targetPort" | "verifierCidrs">;
  /** The server's own settings (UPSTREAM_URL, ...); the variables that wire it to Redis and the load balancer are added. @default none (a colour with task settings takes its own) */
  readonly serverEnvironment?: Record<string, string>;
  /** Each colour's service: cpu, memory, task counts, ... @default McpService's defaults and the task counts above */
  readonly service?: McpDeploymentServiceOptions;
  /** The cache, or false for a server that needs none. @default RedisCache's defaults */
  readonly redis?: Omit<RedisCacheProps, "name" | "vpcId" | "subnetIds"> | false;
  /** The telemetry collector in each task. @default TelemetrySidecar's defaults */
  readonly telemetry?: ColorTelemetryOptions;
  /** Each colour's scaling policy. @default ServiceAutoscaling's defaults */
  readonly scaling?: ColorScalingOptions;
  /** Alarm subscribers and thresholds. @default no subscriber, each alarm construct's thresholds */
  readonly alarms?: McpDeploymentAlarmOptions;
  /** The OAuth client secret that release verification reads, for a server with JWT auth: creates the verifier role, the one role that may read it. @default none (verify without a token) */
  readonly verifier?: { readonly clientSecretArn: string };
  /** The WAF web ACL in front of the load balancer, or false for none (synth warns). @default EdgeFirewall's defaults, with the largest MAX_BODY_BYTES the colours' tasks set */
  readonly firewall?: McpDeploymentFirewallOptions | false;
  /** Encrypt every log group with a customer-managed KMS key of the deployment's own. @default true */
  readonly encryptLogs?: boolean;
  /** Permissions boundary of every role the deployment creates. @default none */
  readonly permissionsBoundaryArn?: string;
}

/**
 * A whole MCP server environment: a VPC with private subnets, Redis (ElastiCache, TLS, IAM
 * authentication), an internet-facing load balancer that splits traffic between a blue and a green
 * Fargate service by the release manifest's weights, each colour with its collector, autoscaling
 * and alarms, and the platform's alarms and dashboard. The building blocks are exported too.
 */
export class McpDeployment extends Construct {
  /** The VPC it built; undefined with an existing one. */
  public readonly network?: Network;
  public readonly redis?: RedisCache;
  public readonly loadBalancer: BlueGreenLoadBalancer;
  public readonly cluster: ServiceCluster;
  public readonly alarmTopic: AlarmTopic;
  public readonly colors: Record<Color, ColorDeployment>;
  public readonly dashboard: McpDashboard;
  /** The web ACL; undefined with `firewall: false`. */
  public readonly firewall?: EdgeFirewall;
  /** The log groups' key; undefined with `encryptLogs: false`. */
  public readonly logsKey?: LogEncryptionKey;
  /** The verify task's role; undefined without `verifier`. */
  public readonly verifierRole?: VerifierRole;

  constructor(scope: Construct, id: string, props: McpDeploymentProps) {
    super(scope, id);
    const name = namePrefix(props.environment);
    const { region, release, permissionsBoundaryArn } = props;
    const service = props.service ?? {};
    const alarms = props.alarms ?? {};
    if (props.encryptLogs !== false) this.logsKey = new LogEncryptionKey(this, "logs-key", { name, region, accountId: props.accountId });
    const logsKmsKeyArn = this.logsKey?.key.arn;

    let net: ExistingNetwork;
    if ("vpcId" in props.network) net = props.network;
    else {
      this.network = new Network(this, "network", { ...props.network, name, region, permissionsBoundaryArn, logsKmsKeyArn });
      net = {
        vpcId: this.network.vpc.id,
        vpcCidr: props.network.cidr,
        publicSubnetIds: this.network.publicSubnetIds,
        privateSubnetIds: this.network.privateSubnetIds,
        natPublicIps: this.network.natPublicIps,
      };
    }
    if (props.redis !== false) this.redis = new RedisCache(this, "redis", { ...props.redis, name, vpcId: net.vpcId, subnetIds: net.privateSubnetIds, logsKmsKeyArn });
    const redis = this.redis;
    this.loadBalancer = new BlueGreenLoadBalancer(this, "load-balancer", {
      ...props.loadBalancer,
      name,
      region,
      vpcId: net.vpcId,
      vpcCidr: net.vpcCidr,
      publicSubnetIds: props.loadBalancer.internal ? net.privateSubnetIds : net.publicSubnetIds,
      // The verify task reaches an internet-facing listener through NAT, an internal one directly.
      verifierCidrs: props.loadBalancer.internal ? [net.vpcCidr] : (net.natPublicIps ?? []).map((ip) => `${ip}/32`),
      weights: { blue: release.colors.blue.weight, green: release.colors.green.weight },
      testColor: candidateColor(release),
      // Both colours' task settings agree on the port (the manifest's rule): the target groups serve either.
      targetPort: release.colors.blue.task?.containerPort ?? service.containerPort,
    });
    this.cluster = new ServiceCluster(this, "cluster", { name });
    this.alarmTopic = new AlarmTopic(this, "alarm-topic", { name: `${name}-alarms`, accountId: props.accountId, emails: alarms.emails, httpsEndpoints: alarms.httpsEndpoints });
    const alarmDefaults = { topicArn: this.alarmTopic.topic.arn, periodSeconds: alarms.periodSeconds, evaluationPeriods: alarms.evaluationPeriods, datapointsToAlarm: alarms.datapointsToAlarm };

    const { minTasks, idleMinTasks, maxTasks, allowedHosts = [], ...colorService } = withDefaults(TASK_COUNT_DEFAULTS, service);
    const hostName = props.loadBalancer.hostName;
    // The wiring only this construct knows: where Redis is, who the server signs in as, which Host
    // names reach it, and its public URL (the 401 challenge's resource, never read from a request).
    const wiring = (hosts: readonly string[]) => ({
      ...(redis ? { REDIS_URL: redis.url } : {}),
      ...(redis?.authentication.mode === "iam" ? { REDIS_IAM_USER: redis.authentication.clientUser.userId, REDIS_IAM_CACHE_ID: redis.replicationGroup.replicationGroupId } : {}),
      AWS_REGION: region,
      ALLOWED_HOSTS: [this.loadBalancer.loadBalancer.dnsName, ...(hostName ? [hostName] : []), ...hosts].join(","),
      MCP_RESOURCE_URL: `${this.loadBalancer.productionUrl}/mcp`,
    });
    // With an AUTH token, ECS hands it to the server from Secrets Manager at task start.
    const redisSecrets: Record<string, string> = redis?.authentication.mode === "auth-token" ? { REDIS_AUTH_TOKEN: redis.authentication.secretArn } : {};
    // A colour's recorded task settings are its whole task: a config change reaches it only through a release.
    const colorSettings = (color: Color): { service: ColorServiceOptions; telemetry?: ColorTelemetryOptions } => {
      const task = release.colors[color].task;
      const who = `McpDeployment ${id} (${color})`;
      if (!task) {
        const environment = withOwnVariables(who, { ...colorService.environment, ...props.serverEnvironment }, wiring(allowedHosts));
        return { service: { ...colorService, environment, secrets: withOwnVariables(who, colorService.secrets ?? {}, redisSecrets) }, telemetry: props.telemetry };
      }
      return {
        service: {
          ...colorService,
          cpu: task.cpu,
          memory: task.memory,
          containerPort: task.containerPort,
          metricsPort: task.metricsPort,
          stopTimeoutSeconds: task.stopTimeoutSeconds,
          enableExecuteCommand: task.enableExecuteCommand,
          environment: withOwnVariables(who, task.environment, wiring(task.allowedHosts)),
          secrets: withOwnVariables(who, task.secrets, redisSecrets),
        },
        telemetry: { image: task.collectorImage, namespace: task.metricsNamespace, scrapeIntervalSeconds: task.scrapeIntervalSeconds },
      };
    };
    const settings = { blue: colorSettings("blue"), green: colorSettings("green") };
    const makeColor = (color: Color) =>
      new ColorDeployment(this, color, {
        name,
        environment: props.environment,
        color,
        region,
        cluster: { arn: this.cluster.cluster.arn, name: this.cluster.cluster.name },
        network: { vpcId: net.vpcId, vpcCidr: net.vpcCidr, subnetIds: net.privateSubnetIds },
        loadBalancer: this.loadBalancer,
        redis,
        image: release.colors[color].image,
        version: release.colors[color].version,
        // The same rule the release CLI reasons with, so its view of capacity and the stack's agree.
        minTasks: minimumTasks(release, color, { minTasks, idleMinTasks }),
        maxTasks,
        ...settings[color],
        scaling: props.scaling,
        alarms: { ...alarms, ...alarmDefaults },
        permissionsBoundaryArn,
        logsKmsKeyArn,
      });
    this.colors = { blue: makeColor("blue"), green: makeColor("green") };
    if (props.verifier) this.verifierRole = new VerifierRole(this, "verifier", { name, clientSecretArn: props.verifier.clientSecretArn, permissionsBoundaryArn });

    if (props.firewall === false) {
      Annotations.of(this).addWarning(`McpDeployment ${id}: no WAF in front of the load balancer, so /mcp is open to request floods, known exploits and bad-reputation addresses; turn the firewall back on unless something else filters traffic`);
    } else {
      this.firewall = new EdgeFirewall(this, "firewall", {
        // Both colours take traffic through the one web ACL: it must admit the larger of their limits.
        maxBodyBytes: Math.max(...COLORS.map((color) => Number(settings[color].service.environment?.MAX_BODY_BYTES ?? SERVER_MAX_BODY_BYTES))),
        ...props.firewall,
        ...alarmDefaults,
        name,
        region,
        loadBalancerArn: this.loadBalancer.loadBalancer.arn,
        logsKmsKeyArn,
      });
    }

    const lbArnSuffix = this.loadBalancer.loadBalancer.arnSuffix;
    const platformAlarms = [
      ...new LoadBalancerAlarms(this, "alarms-load-balancer", { ...alarmDefaults, name, loadBalancerArnSuffix: lbArnSuffix, elb5xxCount: alarms.elb5xxCount, rejectedConnections: alarms.rejectedConnections }).alarms,
      ...(redis
        ? new RedisAlarms(this, "alarms-redis", {
            ...alarmDefaults,
            name,
            memberClusterIds: redis.memberClusterIds,
            engineCpuPercent: alarms.redisEngineCpuPercent,
            cpuPercent: alarms.redisCpuPercent,
            memoryPercent: alarms.redisMemoryPercent,
            evictions: alarms.redisEvictions,
            replicationLagSeconds: alarms.redisReplicationLagSeconds,
            connections: alarms.redisConnections,
          }).alarms
        : []),
    ];
    this.dashboard = new McpDashboard(this, "dashboard", {
      name,
      region,
      environment: props.environment,
      namespace: this.colors.blue.telemetry.namespace,
      loadBalancerArnSuffix: lbArnSuffix,
      clusterName: this.cluster.cluster.name,
      redisMemberClusterIds: redis?.memberClusterIds ?? [],
      colors: COLORS.map((color) => ({
        color,
        targetGroupArnSuffix: this.loadBalancer.targetGroups[color].arnSuffix,
        serviceName: this.colors[color].service.serviceName,
        errorLogMetric: this.colors[color].alarms.errorLogMetric,
      })),
      firewall: this.firewall?.metrics,
      alarmArns: [...(this.firewall ? [this.firewall.blockedRequestsAlarm.arn] : []), ...COLORS.flatMap((color) => [this.colors[color].alarms.unhealthy.arn, ...this.colors[color].alarms.alarms.map((a) => a.arn)]), ...platformAlarms.map((a) => a.arn)],
    });
  }
}
