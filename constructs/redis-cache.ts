import { REDIS_DEFAULTS, withDefaults } from "../config/defaults";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheSubnetGroup } from "@cdktf/provider-aws/lib/elasticache-subnet-group";
import { ElasticacheUser } from "@cdktf/provider-aws/lib/elasticache-user";
import { ElasticacheUserGroup } from "@cdktf/provider-aws/lib/elasticache-user-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { PolicyStatement } from "./iam";

export interface RedisCacheProps {
  /** Prefix of every resource name. Required. */
  readonly name: string;
  /** VPC the cache lives in. Required. */
  readonly vpcId: string;
  /** Private subnets, one per availability zone. Required. */
  readonly subnetIds: string[];
  /** Engine: Valkey or Redis OSS. @default "valkey" */
  readonly engine?: "valkey" | "redis";
  /** Engine version (7 or later: IAM authentication needs it); its major picks the parameter group family. @default "8.0" */
  readonly engineVersion?: string;
  /** Node type of every node. @default "cache.t4g.small" */
  readonly nodeType?: string;
  /** Read replicas beside the primary; one or more turns on automatic failover and Multi-AZ. @default 1 */
  readonly replicas?: number;
  /** Days of daily snapshots to keep. @default 7 */
  readonly snapshotRetentionDays?: number;
  /** Eviction policy when memory is full: LFU keeps the entries asked for often over a flood of paths asked for once. @default "allkeys-lfu" */
  readonly maxmemoryPolicy?: string;
  /** Days to keep the slow log. @default 30 */
  readonly logRetentionDays?: number;
  /** What the client user may do, as an ACL access string. @default CLIENT_ACCESS_STRING */
  readonly clientAccessString?: string;
}

const PORT = 6379;

/**
 * The reference server's cache commands (GET, SET, and PING for readiness) on its own keys
 * (`mcp:`); the handshake's AUTH is always allowed, and its CLIENT SETINFO may fail harmlessly.
 */
export const CLIENT_ACCESS_STRING = "on ~mcp:* -@all +get +set +ping";

/**
 * An ElastiCache replication group for the server's cache: TLS and at-rest encryption, failover
 * whenever there is a replica, and a security group that admits only the clients given to allowFrom.
 * Clients authenticate with IAM as one ElastiCache user (connectStatement grants it), so there is no
 * password anywhere: not in Secrets Manager, and not in the Terraform state that pull-request plans read.
 */
export class RedisCache extends Construct {
  public readonly replicationGroup: ElasticacheReplicationGroup;
  public readonly securityGroup: SecurityGroup;
  /** The IAM-authenticated user clients connect as; its user id is also its user name. */
  public readonly clientUser: ElasticacheUser;
  /** The task-role grant to connect as the client user: ElastiCache authorizes the cache and the user. */
  public readonly connectStatement: PolicyStatement;
  /** `rediss://host:port` of the primary endpoint. */
  public readonly url: string;
  public readonly port = PORT;
  /** Member cluster ids (`<group>-001`, ...), the CacheClusterId dimension of per-node metrics. */
  public readonly memberClusterIds: string[];

  constructor(scope: Construct, id: string, props: RedisCacheProps) {
    super(scope, id);
    const o = withDefaults(REDIS_DEFAULTS, props);
    const { engine, engineVersion, replicas } = o;
    const major = engineVersion.split(".")[0];
    const groupId = `${props.name}-cache`;
    if (groupId.length > 40) throw new Error(`RedisCache ${id}: "${groupId}" is longer than ElastiCache's 40 characters; shorten name`);
    if (Number(major) < 7) throw new Error(`RedisCache ${id}: engineVersion ${engineVersion} cannot authenticate with IAM; use 7.0 or later`);

    this.securityGroup = new SecurityGroup(this, "sg", {
      name: `${props.name}-redis`,
      description: "Redis clients only: rules are added per client security group",
      vpcId: props.vpcId,
      tags: { Name: `${props.name}-redis` },
    });
    const subnetGroup = new ElasticacheSubnetGroup(this, "subnets", { name: `${props.name}-redis`, subnetIds: props.subnetIds });
    const parameters = new ElasticacheParameterGroup(this, "parameters", {
      name: `${props.name}-${engine}${major}`,
      family: `${engine}${major}`,
      parameter: [{ name: "maxmemory-policy", value: o.maxmemoryPolicy }],
      lifecycle: { createBeforeDestroy: true },
    });

    // Every user group needs a user named "default"; this one is switched off, so only IAM users get in.
    const defaultUser = new ElasticacheUser(this, "default-user", {
      userId: `${groupId}-default`,
      userName: "default",
      engine,
      accessString: "off -@all",
      authenticationMode: { type: "no-password-required" },
    });
    this.clientUser = new ElasticacheUser(this, "client-user", {
      userId: `${groupId}-client`,
      userName: `${groupId}-client`,
      engine,
      accessString: props.clientAccessString ?? CLIENT_ACCESS_STRING,
      authenticationMode: { type: "iam" },
    });
    const users = new ElasticacheUserGroup(this, "users", { userGroupId: `${groupId}-users`, engine, userIds: [defaultUser.userId, this.clientUser.userId] });

    const slowLog = new CloudwatchLogGroup(this, "slow-log", { name: `/elasticache/${groupId}/slow-log`, retentionInDays: o.logRetentionDays });
    this.replicationGroup = new ElasticacheReplicationGroup(this, "group", {
      replicationGroupId: groupId,
      description: `MCP server cache (${props.name})`,
      engine,
      engineVersion,
      nodeType: o.nodeType,
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
      userGroupIds: [users.userGroupId],
      snapshotRetentionLimit: o.snapshotRetentionDays,
      snapshotWindow: "03:00-04:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
      autoMinorVersionUpgrade: "true",
      logDeliveryConfiguration: [{ destination: slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }],
      tags: { Name: groupId },
    });
    this.connectStatement = { sid: "ConnectToCache", actions: ["elasticache:Connect"], resources: [this.replicationGroup.arn, this.clientUser.arn] };
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
