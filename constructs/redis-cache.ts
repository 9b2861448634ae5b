import { Construct } from "constructs";
import { Fn } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";

export interface RedisCacheProps {
  /** Prefix of every resource name. Required. */
  readonly name: string;
  /** VPC the cache lives in. Required. */
  readonly vpcId: string;
  /** Private subnets, one per availability zone. Required. */
  readonly subnetIds: string[];
  /** Engine: Valkey or Redis OSS. @default "valkey" */
  readonly engine?: "valkey" | "redis";
  /** Engine version; its major picks the parameter group family. @default "8.0" */
  readonly engineVersion?: string;
  /** Node type of every node. @default "cache.t4g.small" */
  readonly nodeType?: string;
  /** Read replicas beside the primary; one or more turns on automatic failover and Multi-AZ. @default 1 */
  readonly replicas?: number;
  /** Days of daily snapshots to keep. @default 7 */
  readonly snapshotRetentionDays?: number;
  /** Eviction policy when memory is full. @default "allkeys-lru" */
  readonly maxmemoryPolicy?: string;
  /** Days to keep the slow log. @default 30 */
  readonly logRetentionDays?: number;
}

const PORT = 6379;

/**
 * An ElastiCache replication group for the server's cache: TLS and at-rest encryption, an AUTH
 * token held in Secrets Manager (never in outputs or plain environment variables), failover
 * whenever there is a replica, and a security group that admits only the clients given to allowFrom.
 */
export class RedisCache extends Construct {
  public readonly replicationGroup: ElasticacheReplicationGroup;
  public readonly securityGroup: SecurityGroup;
  /** Secret holding the AUTH token; inject it into tasks as an ECS secret. */
  public readonly authTokenSecret: SecretsmanagerSecret;
  /** `rediss://host:port` of the primary endpoint. */
  public readonly url: string;
  public readonly port = PORT;
  /** Member cluster ids (`<group>-001`, ...), the CacheClusterId dimension of per-node metrics. */
  public readonly memberClusterIds: string[];

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const engine = props.engine ?? "valkey";
    const engineVersion = props.engineVersion ?? "8.0";
    const replicas = props.replicas ?? 1;
    const groupId = `${props.name}-cache`;
    if (groupId.length > 40) throw new Error(`RedisCache ${id}: "${groupId}" is longer than ElastiCache's 40 characters; shorten name`);

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${props.name}-redis`,
      description: "Redis clients only: rules are added per client security group",
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-redis` },
    });
    const subnetGroup = new ElasticacheSubnetGroup(this, "subnets", { name: `${props.name}-redis`, subnetIds: props.subnetIds });
    const parameters = new ElasticacheParameterGroup(this, "parameters", {
      name: `${props.name}-${engine}${engineVersion.split(".")[0]}`,
      family: `${engine}${engineVersion.split(".")[0]}`,
      parameter: [{ name: "maxmemory-policy", value: props.maxmemoryPolicy ?? "allkeys-lru" }],
      lifecycle: { createBeforeDestroy: true },
    });

    this.authTokenSecret = new SecretsmanagerSecret(this, "auth-token", {
      name: `${props.name}/redis-auth-token`,
      description: `AUTH token of ${groupId}`,
      recoveryWindowInDays: 7,
    });
    // Terraform's uuid() gives 244 random bits without the random provider, which cannot be
    // installed offline; ignore_changes keeps the first value, so the token is stable across applies.
    const tokenVersion = new SecretsmanagerSecretVersion(this, "auth-token-value", {
      secretId: this.authTokenSecret.id,
      secretString: Fn.replace(`${Fn.uuid()}${Fn.uuid()}`, "-", ""),
      lifecycle: { ignoreChanges: ["secret_string"] },
    });

    const slowLog = new CloudwatchLogGroup(this, "slow-log", { name: `/elasticache/${groupId}/slow-log`, retentionInDays: props.logRetentionDays ?? 30 });
    this.replicationGroup = new ElasticacheReplicationGroup(this, "group", {
      replicationGroupId: groupId,
      description: `MCP server cache (${props.name})`,
      engine,
      engineVersion,
      nodeType: props.nodeType ?? "cache.t4g.small",
      numCacheClusters: 1 + replicas,
      automaticFailoverEnabled: replicas > 0,
      multiAzEnabled: replicas > 0,
      port: PORT,
      parameterGroupName: parameters.name,
      subnetGroupName: subnetGroup.name,
      securityGroupIds: [this.securityGroup.id],
      atRestEncryptionEnabled: "true",
      transitEncryptionEnabled: true,
      transitEncryptionMode: "required",
      authToken: tokenVersion.secretString,
      authTokenUpdateStrategy: "SET",
      snapshotRetentionLimit: props.snapshotRetentionDays ?? 7,
      snapshotWindow: "03:00-04:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
      autoMinorVersionUpgrade: "true",
      logDeliveryConfiguration: [{ destination: slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }],
      tags: { Name: groupId },
    });
    this.url = `rediss://${this.replicationGroup.primaryEndpointAddress}:${PORT}`;
    this.memberClusterIds = Array.from({ length: 1 + replicas }, (_, i) => `${groupId}-${String(i + 1).padStart(3, "0")}`);
  }

  /** Admits one client security group on the Redis port, and nothing else. */
  public allowFrom(id: string, clientSecurityGroupId: string): void {
    new VpcSecurityGroupIngressRule(this, `from-${id}`, {
      securityGroupId: this.securityGroup.id,
      description: `Redis from ${id}`,
      ipProtocol: "tcp",
      fromPort: PORT,
      toPort: PORT,
      referencedSecurityGroupId: clientSecurityGroupId,
    });
  }
}
