import { REDIS_DEFAULTS, withDefaults } from "../config/defaults";
import { Token } from "cdktf";
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
  /** What the client user may do, as an ACL access string (IAM mode only: AUTH-token mode has no users). @default CLIENT_ACCESS_STRING */
  readonly clientAccessString?: string;
  /**
   * Authenticate clients with a Redis AUTH token instead of IAM, for clients that cannot sign
   * ElastiCache IAM tokens. The replication group then has no ElastiCache users or user group
   * (ElastiCache refuses an AUTH token together with a user group); `authentication` says which. Rotating the token without an outage:
   * docs/redis-auth-token-rotation.md. Switching an existing cache between the two modes is a
   * migration this prop does not plan for you (ElastiCache's RBAC-to-AUTH migration uses SET).
   * @default none: clients authenticate with IAM as `clientUser`, and no password exists anywhere
   */
  readonly authToken?: RedisAuthTokenOptions;
  /** KMS key (ARN) that encrypts the slow-log group; its key policy must let CloudWatch Logs use it. @default CloudWatch Logs' own encryption */
  readonly logsKmsKeyArn?: string;
}

/** The AUTH token of `RedisCacheProps.authToken`. */
export interface RedisAuthTokenOptions {
  /**
   * The token Terraform sends to ElastiCache (`auth_token`): 16 to 128 printable ASCII characters
   * without spaces, '"', '%', '/' or '@'. It lands in the Terraform state in plain text, as every
   * `auth_token` does, so anyone who can read the state can read it: that is why IAM is the
   * default. Usually read from `secretArn` (a `DataAwsSecretsmanagerSecretVersion`) or a sensitive
   * variable; a literal is checked against ElastiCache's rules at synth. Required.
   */
  readonly value: string;
  /**
   * ARN of the Secrets Manager secret that holds the same token, for the tasks to read at start
   * (an ECS `secrets` entry, `REDIS_AUTH_TOKEN`); exposed again as `authentication.secretArn`.
   * The construct neither creates nor reads it. Required.
   */
  readonly secretArn: string;
  /**
   * How ElastiCache applies a changed `value`: "ROTATE" adds it and keeps the previous token
   * valid (at most the two latest are); "SET" keeps only `value`, which must be the token last
   * rotated in. A rotation applies ROTATE with the new value, restarts every client, then applies
   * SET with the same value. Only a change of `value` or of this field makes Terraform send it;
   * creating the group ignores it.
   * @default "ROTATE"
   */
  readonly updateStrategy?: "ROTATE" | "SET";
}

/** How clients sign in: as the IAM-authenticated client user, or with the AUTH token kept in Secrets Manager. */
export type RedisAuthentication =
  | {
      readonly mode: "iam";
      /** The ElastiCache user clients connect as (`REDIS_IAM_USER` = its user id). */
      readonly clientUser: ElasticacheUser;
      /** The task-role grant to connect as the client user. */
      readonly connectStatement: PolicyStatement;
    }
  | {
      readonly mode: "auth-token";
      /** The secret the tasks read `REDIS_AUTH_TOKEN` from (ECS `secrets`; the execution role needs secretsmanager:GetSecretValue on it). */
      readonly secretArn: string;
    };

/**
 * ElastiCache's AUTH token rules (ModifyReplicationGroup's AuthToken): printable ASCII, 16 to 128
 * characters, none of '"', '%', '/' or '@'. A space is printable too, but the user guide's list of
 * allowed punctuation (! & # $ ^ < > -, what to generate from) leaves it out, so it is refused.
 */
const AUTH_TOKEN = /^[\x21\x23\x24\x26-\x2e\x30-\x3f\x41-\x7e]{16,128}$/;
const AUTH_TOKEN_STRATEGIES = ["ROTATE", "SET"] as const;

const PORT = 6379;

/**
 * The reference server's cache commands (GET, SET, and PING for readiness) on its own keys
 * (`mcp:`); the handshake's AUTH is always allowed, and its CLIENT SETINFO may fail harmlessly.
 */
export const CLIENT_ACCESS_STRING = "on ~mcp:* -@all +get +set +ping";

/**
 * An ElastiCache replication group for the server's cache: TLS and at-rest encryption, failover
 * whenever there is a replica, and a security group that admits only the clients given to allowFrom.
 * Clients authenticate with IAM as one ElastiCache user (authentication.connectStatement grants it), so there is no
 * password anywhere: not in Secrets Manager, and not in the Terraform state that pull-request plans read.
 * The `authToken` prop opts into a Redis AUTH token instead, for clients that cannot sign IAM tokens.
 */
export class RedisCache extends Construct {
  public readonly replicationGroup: ElasticacheReplicationGroup;
  public readonly securityGroup: SecurityGroup;
  /** How clients sign in, by mode; the one field that exists in both modes. */
  public readonly authentication: RedisAuthentication;
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
    if (Number(major) < 7) {
      throw new Error(
        props.authToken
          ? `RedisCache ${id}: engineVersion ${engineVersion} is older than the transit_encryption_mode this construct sets; use 7.0 or later`
          : `RedisCache ${id}: engineVersion ${engineVersion} cannot authenticate with IAM; use 7.0 or later`,
      );
    }
    if (props.authToken) checkAuthToken(id, props);

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

    // IAM mode: an IAM user for the clients beside a switched-off "default" (every user group needs
    // one), so only IAM users get in. AUTH-token mode: no users at all, since ElastiCache refuses
    // auth_token together with user_group_ids, and the token is the default user's password.
    const users = props.authToken ? undefined : this.iamUsers(groupId, engine, props.clientAccessString ?? CLIENT_ACCESS_STRING);

    const slowLog = new CloudwatchLogGroup(this, "slow-log", { name: `/elasticache/${groupId}/slow-log`, retentionInDays: o.logRetentionDays, kmsKeyId: props.logsKmsKeyArn });
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
      ...(users
        ? { userGroupIds: [users.group.userGroupId] }
        : {
            authToken: props.authToken!.value,
            // ROTATE unless told otherwise: a changed token is then added while the previous one
            // stays valid, so tasks that still hold the old secret keep connecting until they are
            // restarted; SET would drop the old token at once and lock every such task out. SET is
            // the last step of a rotation, after every client runs with the new token. Provider 5.100
            // defaults to ROTATE too, but 6.x drops that default and asks for the strategy whenever
            // the token changes; ElastiCache reads it only on ModifyReplicationGroup, which the
            // provider sends when the token or this strategy changes (not at create).
            authTokenUpdateStrategy: props.authToken!.updateStrategy ?? "ROTATE",
          }),
      snapshotRetentionLimit: o.snapshotRetentionDays,
      snapshotWindow: "03:00-04:00",
      maintenanceWindow: "sun:05:00-sun:06:00",
      autoMinorVersionUpgrade: "true",
      logDeliveryConfiguration: [{ destination: slowLog.name, destinationType: "cloudwatch-logs", logFormat: "json", logType: "slow-log" }],
      tags: { Name: groupId },
    });
    this.authentication = users
      ? {
          mode: "iam",
          clientUser: users.client,
          connectStatement: { sid: "ConnectToCache", actions: ["elasticache:Connect"], resources: [this.replicationGroup.arn, users.client.arn] },
        }
      : { mode: "auth-token", secretArn: props.authToken!.secretArn };
    this.url = `rediss://${this.replicationGroup.primaryEndpointAddress}:${PORT}`;
    this.memberClusterIds = Array.from({ length: 1 + replicas }, (_, i) => `${groupId}-${String(i + 1).padStart(3, "0")}`);
  }

  private iamUsers(groupId: string, engine: string, accessString: string) {
    const defaultUser = new ElasticacheUser(this, "default-user", {
      userId: `${groupId}-default`,
      userName: "default",
      engine,
      accessString: "off -@all",
      authenticationMode: { type: "no-password-required" },
    });
    const client = new ElasticacheUser(this, "client-user", {
      userId: `${groupId}-client`,
      userName: `${groupId}-client`,
      engine,
      accessString,
      authenticationMode: { type: "iam" },
    });
    const group = new ElasticacheUserGroup(this, "users", { userGroupId: `${groupId}-users`, engine, userIds: [defaultUser.userId, client.userId] });
    return { client, group };
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

/** Refuses, at synth, an AUTH token that ElastiCache would refuse at apply; the message never shows the token. */
function checkAuthToken(id: string, props: RedisCacheProps): void {
  const { value, secretArn, updateStrategy } = props.authToken!;
  if (props.clientAccessString !== undefined) {
    throw new Error(`RedisCache ${id}: clientAccessString applies to the IAM client user, and with authToken there are no users (the token opens the default user); leave one of them out`);
  }
  if (updateStrategy !== undefined && !(AUTH_TOKEN_STRATEGIES as readonly string[]).includes(updateStrategy)) {
    throw new Error(`RedisCache ${id}: authToken.updateStrategy must be "ROTATE" or "SET", not ${JSON.stringify(updateStrategy)}`);
  }
  if (!Token.isUnresolved(value) && !AUTH_TOKEN.test(value)) {
    const chars = [...value];
    const refused = ['"', "%", "/", "@"].filter((c) => chars.includes(c));
    const problems = [
      value.length < 16 || value.length > 128 ? `${value.length} characters` : undefined,
      chars.includes(" ") ? "a space" : undefined,
      refused.length > 0 ? refused.map((c) => `'${c}'`).join(", ") : undefined,
      chars.some((c) => !/^[\x20-\x7e]$/.test(c)) ? "non-ASCII or control characters" : undefined,
    ].filter(Boolean);
    throw new Error(
      `RedisCache ${id}: authToken.value has ${problems.join(" and ")}; ElastiCache takes 16 to 128 printable ASCII characters without spaces, '"', '%', '/' or '@'. ` +
        `Generate one from letters and digits (aws secretsmanager get-random-password --password-length 64 --exclude-punctuation) or add only !&#$^<>-, the punctuation ElastiCache's guide allows`,
    );
  }
  if (!Token.isUnresolved(secretArn) && !/^arn:[a-z-]+:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(secretArn)) {
    throw new Error(`RedisCache ${id}: authToken.secretArn must be a Secrets Manager secret ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>), not ${JSON.stringify(secretArn)}`);
  }
}
