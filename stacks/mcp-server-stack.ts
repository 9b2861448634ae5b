import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Environment } from "../config/load";
import { namePrefix, PROJECT, stateKey } from "../config/names";
import { COLORS, candidateColor, minimumTasks, type Color } from "../config/release-manifest";
import { AlarmTopic } from "../constructs/alarm-topic";
import { BlueGreenLoadBalancer } from "../constructs/blue-green-load-balancer";
import { ColorAlarms } from "../constructs/color-alarms";
import { LoadBalancerAlarms } from "../constructs/load-balancer-alarms";
import { McpDashboard } from "../constructs/mcp-dashboard";
import { McpService } from "../constructs/mcp-service";
import { Network } from "../constructs/network";
import { RedisAlarms } from "../constructs/redis-alarms";
import { RedisCache } from "../constructs/redis-cache";
import { ServiceAutoscaling } from "../constructs/service-autoscaling";
import { ServiceCluster } from "../constructs/service-cluster";
import { TelemetrySidecar } from "../constructs/telemetry-sidecar";
import { workloadBoundaryArn } from "../constructs/workload-permissions-boundary";
import { serverEnvironment } from "./server-environment";

/** One environment's MCP deployment: network, Redis, load balancer and a service per colour. */
export class McpServerStack extends TerraformStack {
  public readonly loadBalancer: BlueGreenLoadBalancer;
  public readonly services: Record<Color, McpService>;

  constructor(scope: Construct, id: string, { config, release }: Environment) {
    super(scope, id);
    const name = namePrefix(config.name);
    // Created by the bootstrap stack, which must be applied first; the deploy role may create roles only with it.
    const permissionsBoundaryArn = workloadBoundaryArn(config.aws.region, config.aws.accountId, name);
    const { network: net, loadBalancer: lb, service: svc, redis: cache, alarms, observability: obs } = config;

    new AwsProvider(this, "aws", {
      region: config.aws.region,
      allowedAccountIds: [config.aws.accountId],
      defaultTags: [{ tags: { project: PROJECT, environment: config.name, "managed-by": "cdktf", repository: config.repository } }],
    });
    const backend = new S3Backend(this, {
      bucket: config.stateBackend.bucket,
      region: config.stateBackend.region,
      key: stateKey(config.name),
      // No `encrypt`: without a kms_key_id it makes Terraform send SSE-S3 (AES256), overriding the
      // bucket's default SSE-KMS. The state bucket encrypts every object with KMS by default, and
      // its policy refuses a write that asks for AES256.
    });
    // S3-native state locking (Terraform >= 1.10); cdktf 0.21's S3BackendConfig predates the option.
    backend.addOverride("use_lockfile", true);

    const network = new Network(this, "network", {
      name,
      region: config.aws.region,
      cidr: net.vpcCidr,
      availabilityZones: net.availabilityZones,
      publicSubnetCidrs: net.publicSubnetCidrs,
      privateSubnetCidrs: net.privateSubnetCidrs,
      natGateways: net.natGateways,
      interfaceEndpoints: net.interfaceEndpoints,
      flowLogRetentionDays: net.flowLogRetentionDays,
      permissionsBoundaryArn,
    });

    const redis = new RedisCache(this, "redis", {
      name,
      vpcId: network.vpc.id,
      subnetIds: network.privateSubnetIds,
      ...cache,
    });

    this.loadBalancer = new BlueGreenLoadBalancer(this, "load-balancer", {
      name,
      region: config.aws.region,
      vpcId: network.vpc.id,
      vpcCidr: net.vpcCidr,
      publicSubnetIds: network.publicSubnetIds,
      weights: { blue: release.colors.blue.weight, green: release.colors.green.weight },
      testColor: candidateColor(release),
      certificateArn: lb.certificateArn,
      hostName: lb.hostName,
      testListenerPort: lb.testListenerPort,
      testListenerCidrs: lb.testListenerCidrs,
      targetPort: svc.containerPort,
      idleTimeoutSeconds: lb.idleTimeoutSeconds,
      deregistrationDelaySeconds: lb.deregistrationDelaySeconds,
      healthCheck: lb.healthCheck,
      deletionProtection: lb.deletionProtection,
      accessLogRetentionDays: lb.accessLogRetentionDays,
    });

    const cluster = new ServiceCluster(this, "cluster", { name });
    const topic = new AlarmTopic(this, "alarm-topic", { name: `${name}-alarms`, accountId: config.aws.accountId, emails: alarms.emails, httpsEndpoints: alarms.httpsEndpoints });
    const alarmDefaults = { topicArn: topic.topic.arn, periodSeconds: alarms.periodSeconds, evaluationPeriods: alarms.evaluationPeriods, datapointsToAlarm: alarms.datapointsToAlarm };
    const lbArnSuffix = this.loadBalancer.loadBalancer.arnSuffix;

    const makeColor = (color: Color) => {
      const colorRelease = release.colors[color];
      // The same rule the release CLI reasons with, so its view of capacity and the stack's agree.
      const minTasks = minimumTasks(release, color, svc);
      const targetGroup = this.loadBalancer.targetGroups[color];
      const telemetry = new TelemetrySidecar(this, `telemetry-${color}`, {
        name,
        environment: config.name,
        color,
        region: config.aws.region,
        metricsPort: svc.metricsPort,
        image: obs.collectorImage,
        namespace: obs.metricsNamespace,
        scrapeIntervalSeconds: obs.scrapeIntervalSeconds,
        logRetentionDays: svc.logRetentionDays,
      });
      const service = new McpService(this, `service-${color}`, {
        name,
        color,
        region: config.aws.region,
        clusterArn: cluster.cluster.arn,
        vpcId: network.vpc.id,
        vpcCidr: net.vpcCidr,
        subnetIds: network.privateSubnetIds,
        targetGroupArn: targetGroup.arn,
        loadBalancerSecurityGroupId: this.loadBalancer.securityGroup.id,
        image: colorRelease.image,
        version: colorRelease.version,
        cpu: svc.cpu,
        memory: svc.memory,
        containerPort: svc.containerPort,
        metricsPort: svc.metricsPort,
        desiredCount: minTasks,
        environment: serverEnvironment(config, {
          redisUrl: redis.url,
          redisUser: redis.clientUser.userId,
          redisCacheId: redis.replicationGroup.replicationGroupId,
          loadBalancerDnsName: this.loadBalancer.loadBalancer.dnsName,
          publicUrl: this.loadBalancer.productionUrl,
        }),
        stopTimeoutSeconds: svc.stopTimeoutSeconds,
        healthCheckGracePeriodSeconds: svc.healthCheckGracePeriodSeconds,
        logRetentionDays: svc.logRetentionDays,
        enableExecuteCommand: svc.enableExecuteCommand,
        vpcEgressPorts: [redis.port],
        sidecars: [telemetry],
        taskRoleStatements: [redis.connectStatement],
        permissionsBoundaryArn,
      });
      redis.allowFrom(color, service.securityGroup.id);
      new ServiceAutoscaling(this, `autoscaling-${color}`, {
        clusterName: cluster.cluster.name,
        service: service.service,
        serviceName: service.serviceName,
        loadBalancerArnSuffix: lbArnSuffix,
        targetGroupArnSuffix: targetGroup.arnSuffix,
        minTasks,
        maxTasks: svc.maxTasks,
        ...config.autoscaling,
      });
      const colorAlarms = new ColorAlarms(this, `alarms-${color}`, {
        ...alarmDefaults,
        ...alarms,
        name: service.serviceName,
        environment: config.name,
        color,
        loadBalancerArnSuffix: lbArnSuffix,
        targetGroupArnSuffix: targetGroup.arnSuffix,
        clusterName: cluster.cluster.name,
        serviceName: service.serviceName,
        logGroupName: service.logGroup.name,
        namespace: obs.metricsNamespace,
      });
      return { service, alarms: colorAlarms };
    };
    const colors = { blue: makeColor("blue"), green: makeColor("green") };
    this.services = { blue: colors.blue.service, green: colors.green.service };

    const platformAlarms = [
      ...new LoadBalancerAlarms(this, "alarms-load-balancer", { ...alarmDefaults, name, loadBalancerArnSuffix: lbArnSuffix, elb5xxCount: alarms.elb5xxCount, rejectedConnections: alarms.rejectedConnections }).alarms,
      ...new RedisAlarms(this, "alarms-redis", {
        ...alarmDefaults,
        name,
        memberClusterIds: redis.memberClusterIds,
        engineCpuPercent: alarms.redisEngineCpuPercent,
        cpuPercent: alarms.redisCpuPercent,
        memoryPercent: alarms.redisMemoryPercent,
        evictions: alarms.redisEvictions,
        replicationLagSeconds: alarms.redisReplicationLagSeconds,
        connections: alarms.redisConnections,
      }).alarms,
    ];
    const dashboard = new McpDashboard(this, "dashboard", {
      name,
      region: config.aws.region,
      environment: config.name,
      namespace: obs.metricsNamespace,
      loadBalancerArnSuffix: lbArnSuffix,
      clusterName: cluster.cluster.name,
      redisMemberClusterIds: redis.memberClusterIds,
      colors: COLORS.map((color) => ({
        color,
        targetGroupArnSuffix: this.loadBalancer.targetGroups[color].arnSuffix,
        serviceName: colors[color].service.serviceName,
        errorLogMetric: colors[color].alarms.errorLogMetric,
      })),
      alarmArns: [...COLORS.flatMap((color) => [colors[color].alarms.unhealthy.arn, ...colors[color].alarms.alarms.map((a) => a.arn)]), ...platformAlarms.map((a) => a.arn)],
    });

    new TerraformOutput(this, "alb_dns_name", { value: this.loadBalancer.loadBalancer.dnsName, description: "DNS name of the load balancer" });
    new TerraformOutput(this, "test_listener_url", { value: this.loadBalancer.testUrl, description: `URL of the test listener (reaches ${candidateColor(release)})` });
    new TerraformOutput(this, "cluster_name", { value: cluster.cluster.name });
    new TerraformOutput(this, "dashboard_url", { value: dashboard.url });
    new TerraformOutput(this, "alarm_topic_arn", { value: topic.topic.arn });
    for (const color of COLORS) {
      new TerraformOutput(this, `${color}_service_name`, { value: this.services[color].service.name });
      new TerraformOutput(this, `${color}_target_group_arn`, { value: this.loadBalancer.targetGroups[color].arn });
      new TerraformOutput(this, `${color}_unhealthy_alarm`, { value: colors[color].alarms.unhealthy.alarmName, description: `Composite alarm the release watches while ${color} takes traffic` });
    }
  }
}
