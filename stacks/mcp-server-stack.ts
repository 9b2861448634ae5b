import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Environment } from "../config/load";
import { COLORS, candidateColor, type Color } from "../config/release-manifest";
import { BlueGreenLoadBalancer } from "../constructs/blue-green-load-balancer";
import { McpService } from "../constructs/mcp-service";
import { Network } from "../constructs/network";
import { RedisCache } from "../constructs/redis-cache";
import { ServiceCluster } from "../constructs/service-cluster";

export const PROJECT = "mcp-deploy";

/** One environment's MCP deployment: network, Redis, load balancer and a service per colour. */
export class McpServerStack extends TerraformStack {
  public readonly loadBalancer: BlueGreenLoadBalancer;
  public readonly services: Record<Color, McpService>;

  constructor(scope: Construct, id: string, { config, release }: Environment) {
    super(scope, id);
    const name = `mcp-${config.name}`;
    const { network: net, loadBalancer: lb, service: svc, redis: cache } = config;

    new AwsProvider(this, "aws", {
      region: config.aws.region,
      allowedAccountIds: [config.aws.accountId],
      defaultTags: [{ tags: { project: PROJECT, environment: config.name, "managed-by": "cdktf", repository: config.repository } }],
    });
    const backend = new S3Backend(this, {
      bucket: config.stateBackend.bucket,
      region: config.stateBackend.region,
      key: `${PROJECT}/${config.name}.tfstate`,
      encrypt: true,
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
    const makeService = (color: Color) => {
      const colorRelease = release.colors[color];
      const service = new McpService(this, `service-${color}`, {
        name,
        color,
        region: config.aws.region,
        clusterArn: cluster.cluster.arn,
        vpcId: network.vpc.id,
        vpcCidr: net.vpcCidr,
        subnetIds: network.privateSubnetIds,
        targetGroupArn: this.loadBalancer.targetGroups[color].arn,
        loadBalancerSecurityGroupId: this.loadBalancer.securityGroup.id,
        image: colorRelease.image,
        version: colorRelease.version,
        cpu: svc.cpu,
        memory: svc.memory,
        containerPort: svc.containerPort,
        metricsPort: svc.metricsPort,
        desiredCount: colorRelease.minTasks ?? (colorRelease.weight > 0 ? svc.minTasks : svc.idleMinTasks),
        environment: {
          ...svc.environment,
          REDIS_URL: redis.url,
          UPSTREAM_URL: svc.upstreamUrl,
          CACHE_TTL_SECONDS: String(svc.cacheTtlSeconds),
          LOG_LEVEL: svc.logLevel,
          DRAIN_DELAY_SECONDS: String(svc.drainDelaySeconds),
          KEEP_ALIVE_TIMEOUT_SECONDS: String(svc.keepAliveTimeoutSeconds),
          STOP_TIMEOUT_SECONDS: String(svc.stopTimeoutSeconds),
        },
        secrets: { REDIS_AUTH_TOKEN: redis.authTokenSecret.arn },
        stopTimeoutSeconds: svc.stopTimeoutSeconds,
        healthCheckGracePeriodSeconds: svc.healthCheckGracePeriodSeconds,
        logRetentionDays: svc.logRetentionDays,
        enableExecuteCommand: svc.enableExecuteCommand,
        vpcEgressPorts: [redis.port],
      });
      redis.allowFrom(color, service.securityGroup.id);
      return service;
    };
    this.services = { blue: makeService("blue"), green: makeService("green") };

    new TerraformOutput(this, "alb_dns_name", { value: this.loadBalancer.loadBalancer.dnsName, description: "DNS name of the load balancer" });
    new TerraformOutput(this, "test_listener_url", { value: this.loadBalancer.testUrl, description: `URL of the test listener (reaches ${candidateColor(release)})` });
    new TerraformOutput(this, "cluster_name", { value: cluster.cluster.name });
    for (const color of COLORS) {
      new TerraformOutput(this, `${color}_service_name`, { value: this.services[color].service.name });
      new TerraformOutput(this, `${color}_target_group_arn`, { value: this.loadBalancer.targetGroups[color].arn });
    }
  }
}
