import { Construct } from "constructs";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import type { Environment } from "../config/load";
import { namePrefix, PROJECT, stateKey } from "../config/names";
import { candidateColor, COLORS, requireTaskSettings } from "../config/release-manifest";
import { logsEncrypted } from "../config/schema";
import { McpDeployment } from "../constructs/mcp-deployment";
import { workloadBoundaryArn } from "../constructs/workload-permissions-boundary";

/**
 * One environment: its provider and state, and an McpDeployment mapped from its config field by
 * field (no spreads, so a renamed prop or config key is a compile error here).
 */
export class McpServerStack extends TerraformStack {
  public readonly deployment: McpDeployment;

  constructor(scope: Construct, id: string, { config, release }: Environment) {
    super(scope, id);
    // The colours' cpu, memory, variables and collector come from the manifest (deploy records them), not the config.
    requireTaskSettings(release);
    const { network: net, loadBalancer: lb, service: svc, redis, autoscaling, alarms } = config;

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

    this.deployment = new McpDeployment(this, "deployment", {
      environment: config.name,
      region: config.aws.region,
      accountId: config.aws.accountId,
      network: {
        cidr: net.vpcCidr,
        availabilityZones: net.availabilityZones,
        publicSubnetCidrs: net.publicSubnetCidrs,
        privateSubnetCidrs: net.privateSubnetCidrs,
        natGateways: net.natGateways,
        interfaceEndpoints: net.interfaceEndpoints,
        flowLogRetentionDays: net.flowLogRetentionDays,
      },
      release,
      loadBalancer: {
        certificateArn: lb.certificateArn,
        hostName: lb.hostName,
        testListenerPort: lb.testListenerPort,
        testListenerCidrs: lb.testListenerCidrs,
        idleTimeoutSeconds: lb.idleTimeoutSeconds,
        deregistrationDelaySeconds: lb.deregistrationDelaySeconds,
        healthCheck: {
          intervalSeconds: lb.healthCheck.intervalSeconds,
          timeoutSeconds: lb.healthCheck.timeoutSeconds,
          healthyThreshold: lb.healthCheck.healthyThreshold,
          unhealthyThreshold: lb.healthCheck.unhealthyThreshold,
        },
        deletionProtection: lb.deletionProtection,
        accessLogRetentionDays: lb.accessLogRetentionDays,
      },
      service: {
        minTasks: svc.minTasks,
        idleMinTasks: svc.idleMinTasks,
        maxTasks: svc.maxTasks,
        healthCheckGracePeriodSeconds: svc.healthCheckGracePeriodSeconds,
        logRetentionDays: svc.logRetentionDays,
      },
      redis: {
        engine: redis.engine,
        engineVersion: redis.engineVersion,
        nodeType: redis.nodeType,
        replicas: redis.replicas,
        snapshotRetentionDays: redis.snapshotRetentionDays,
        maxmemoryPolicy: redis.maxmemoryPolicy,
      },
      scaling: {
        requestsPerTargetPerMinute: autoscaling.requestsPerTargetPerMinute,
        responseTimeStatistic: autoscaling.responseTimeStatistic,
        responseTimeThresholdSeconds: autoscaling.responseTimeThresholdSeconds,
        responseTimeScaleOutTasks: autoscaling.responseTimeScaleOutTasks,
        scaleOutCooldownSeconds: autoscaling.scaleOutCooldownSeconds,
        scaleInCooldownSeconds: autoscaling.scaleInCooldownSeconds,
      },
      alarms: {
        emails: alarms.emails,
        httpsEndpoints: alarms.httpsEndpoints,
        periodSeconds: alarms.periodSeconds,
        evaluationPeriods: alarms.evaluationPeriods,
        datapointsToAlarm: alarms.datapointsToAlarm,
        target5xxRatePercent: alarms.target5xxRatePercent,
        minRequestsForErrorRate: alarms.minRequestsForErrorRate,
        p99ResponseTimeSeconds: alarms.p99ResponseTimeSeconds,
        cpuPercent: alarms.cpuPercent,
        memoryPercent: alarms.memoryPercent,
        cacheErrorRatePercent: alarms.cacheErrorRatePercent,
        elb5xxCount: alarms.elb5xxCount,
        rejectedConnections: alarms.rejectedConnections,
        redisEngineCpuPercent: alarms.redisEngineCpuPercent,
        redisCpuPercent: alarms.redisCpuPercent,
        redisMemoryPercent: alarms.redisMemoryPercent,
        redisEvictions: alarms.redisEvictions,
        redisReplicationLagSeconds: alarms.redisReplicationLagSeconds,
        redisConnections: alarms.redisConnections,
      },
      firewall: config.firewall.enabled ? { rateLimitPer5Minutes: config.firewall.rateLimitPer5Minutes, logRetentionDays: config.firewall.logRetentionDays, blockedRequestsThreshold: alarms.wafBlockedRequests } : false,
      encryptLogs: logsEncrypted(config),
      verifier: config.auth ? { clientSecretArn: config.auth.verifier.clientSecretArn } : undefined,
      // Created by the bootstrap stack, which must be applied first; the deploy role may create roles only with it.
      permissionsBoundaryArn: workloadBoundaryArn(config.aws.region, config.aws.accountId, namePrefix(config.name)),
    });

    const d = this.deployment;
    new TerraformOutput(this, "alb_dns_name", { value: d.loadBalancer.loadBalancer.dnsName, description: "DNS name of the load balancer" });
    new TerraformOutput(this, "test_listener_url", { value: d.loadBalancer.testUrl, description: `URL of the test listener (reaches ${candidateColor(release)})` });
    new TerraformOutput(this, "cluster_name", { value: d.cluster.cluster.name });
    new TerraformOutput(this, "dashboard_url", { value: d.dashboard.url });
    new TerraformOutput(this, "alarm_topic_arn", { value: d.alarmTopic.topic.arn });
    for (const color of COLORS) {
      new TerraformOutput(this, `${color}_service_name`, { value: d.colors[color].service.service.name });
      new TerraformOutput(this, `${color}_target_group_arn`, { value: d.loadBalancer.targetGroups[color].arn });
      new TerraformOutput(this, `${color}_unhealthy_alarm`, { value: d.colors[color].alarms.unhealthy.alarmName, description: `Composite alarm the release watches while ${color} takes traffic` });
    }
  }
}
