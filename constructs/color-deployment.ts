import { Construct } from "constructs";
import type { Color } from "../config/release-manifest";
import type { AlarmDefaults } from "./alarm";
import type { BlueGreenLoadBalancer } from "./blue-green-load-balancer";
import { ColorAlarms, type ColorAlarmsProps } from "./color-alarms";
import type { PolicyStatement } from "./iam";
import { McpService, type McpServiceProps } from "./mcp-service";
import type { RedisCache } from "./redis-cache";
import { ServiceAutoscaling, type ServiceAutoscalingProps } from "./service-autoscaling";
import { TelemetrySidecar, type TelemetrySidecarProps } from "./telemetry-sidecar";

/** What of the service a ColorDeployment leaves to its caller: everything it does not wire itself. */
export type ColorServiceOptions = Omit<
  McpServiceProps,
  "name" | "color" | "region" | "clusterArn" | "vpcId" | "vpcCidr" | "subnetIds" | "targetGroupArn" | "loadBalancerSecurityGroupId" | "image" | "version" | "desiredCount" | "sidecars" | "permissionsBoundaryArn"
>;

/** The collector's settings; the rest of TelemetrySidecarProps comes from the colour. */
export type ColorTelemetryOptions = Pick<TelemetrySidecarProps, "image" | "namespace" | "scrapeIntervalSeconds">;

/** The scaling policy's settings; the service and its load balancer come from the colour. */
export type ColorScalingOptions = Omit<ServiceAutoscalingProps, "clusterName" | "service" | "serviceName" | "loadBalancerArnSuffix" | "targetGroupArnSuffix" | "minTasks" | "maxTasks">;

/** The alarms' thresholds and where they notify; what they watch comes from the colour. */
export type ColorAlarmOptions = AlarmDefaults &
  Omit<ColorAlarmsProps, keyof AlarmDefaults | "name" | "environment" | "color" | "loadBalancerArnSuffix" | "targetGroupArnSuffix" | "clusterName" | "serviceName" | "logGroupName" | "namespace">;

export interface ColorDeploymentProps {
  /** Prefix of every resource name, `mcp-<env>`. Required. */
  readonly name: string;
  /** Environment, a dimension of every server metric. Required. */
  readonly environment: string;
  /** The colour this deployment is. Required. */
  readonly color: Color;
  /** Region of the environment. Required. */
  readonly region: string;
  /** The ECS cluster's ARN and name. Required. */
  readonly cluster: { readonly arn: string; readonly name: string };
  /** VPC id and CIDR, and the private subnets the tasks run in. Required. */
  readonly network: { readonly vpcId: string; readonly vpcCidr: string; readonly subnetIds: string[] };
  /** The load balancer whose target group of this colour the service registers in. Required. */
  readonly loadBalancer: BlueGreenLoadBalancer;
  /** The cache the server uses: its port is opened and `elasticache:Connect` granted. @default no cache */
  readonly redis?: RedisCache;
  /** Image and version this colour runs (the release manifest's). Required. */
  readonly image: string;
  readonly version: string;
  /** Fewest and most tasks autoscaling may run. Required. */
  readonly minTasks: number;
  readonly maxTasks: number;
  /** The service's own settings (cpu, memory, environment, ...). @default McpService's defaults */
  readonly service?: ColorServiceOptions;
  /** The telemetry collector's settings. @default TelemetrySidecar's defaults */
  readonly telemetry?: ColorTelemetryOptions;
  /** The scaling policy's settings. @default ServiceAutoscaling's defaults */
  readonly scaling?: ColorScalingOptions;
  /** Where the alarms notify, and their thresholds. Required (the topic). */
  readonly alarms: ColorAlarmOptions;
  /** Permissions boundary of the task and execution roles. @default none */
  readonly permissionsBoundaryArn?: string;
  /** KMS key (ARN) that encrypts the colour's log groups; its policy must let logs.<region>.amazonaws.com use it. @default CloudWatch Logs' own encryption */
  readonly logsKmsKeyArn?: string;
}

/**
 * One colour of a blue/green deployment: its Fargate service with a telemetry collector beside the
 * server, target-tracking autoscaling on request rate with a response-time scale-out, and its
 * alarms, whose composite `<service>-unhealthy` is what a release gates on.
 */
export class ColorDeployment extends Construct {
  public readonly service: McpService;
  public readonly telemetry: TelemetrySidecar;
  public readonly scaling: ServiceAutoscaling;
  public readonly alarms: ColorAlarms;

  constructor(scope: Construct, id: string, props: ColorDeploymentProps) {
    super(scope, id);
    const { name, color, region, loadBalancer, redis } = props;
    const targetGroup = loadBalancer.targetGroups[color];
    const service = props.service ?? {};

    this.telemetry = new TelemetrySidecar(this, "telemetry", {
      name,
      environment: props.environment,
      color,
      region,
      metricsPort: service.metricsPort,
      logRetentionDays: service.logRetentionDays,
      logsKmsKeyArn: props.logsKmsKeyArn,
      ...props.telemetry,
    });
    const taskRoleStatements: PolicyStatement[] = [...(service.taskRoleStatements ?? []), ...(redis?.authentication.mode === "iam" ? [redis.authentication.connectStatement] : [])];
    this.service = new McpService(this, "service", {
      ...service,
      name,
      color,
      region,
      clusterArn: props.cluster.arn,
      vpcId: props.network.vpcId,
      vpcCidr: props.network.vpcCidr,
      subnetIds: props.network.subnetIds,
      targetGroupArn: targetGroup.arn,
      loadBalancerSecurityGroupId: loadBalancer.securityGroup.id,
      image: props.image,
      version: props.version,
      desiredCount: props.minTasks,
      vpcEgressPorts: [...(service.vpcEgressPorts ?? []), ...(redis ? [redis.port] : [])],
      sidecars: [this.telemetry],
      logsKmsKeyArn: props.logsKmsKeyArn,
      taskRoleStatements,
      permissionsBoundaryArn: props.permissionsBoundaryArn,
    });
    redis?.allowFrom(color, this.service.securityGroup.id);

    const lbArnSuffix = loadBalancer.loadBalancer.arnSuffix;
    this.scaling = new ServiceAutoscaling(this, "scaling", {
      ...props.scaling,
      clusterName: props.cluster.name,
      service: this.service.service,
      serviceName: this.service.serviceName,
      loadBalancerArnSuffix: lbArnSuffix,
      targetGroupArnSuffix: targetGroup.arnSuffix,
      minTasks: props.minTasks,
      maxTasks: props.maxTasks,
    });
    this.alarms = new ColorAlarms(this, "alarms", {
      ...props.alarms,
      name: this.service.serviceName,
      environment: props.environment,
      color,
      loadBalancerArnSuffix: lbArnSuffix,
      targetGroupArnSuffix: targetGroup.arnSuffix,
      clusterName: props.cluster.name,
      serviceName: this.service.serviceName,
      logGroupName: this.service.logGroup.name,
      namespace: this.telemetry.namespace,
    });
  }
}
