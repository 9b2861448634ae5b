import { TerraformVariable, Testing } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsSecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/data-aws-secretsmanager-secret-version";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheUser } from "@cdktf/provider-aws/lib/elasticache-user";
import { ElasticacheUserGroup } from "@cdktf/provider-aws/lib/elasticache-user-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { policyDocument } from "../../constructs/iam";
import { CLIENT_ACCESS_STRING, RedisCache, type RedisCacheProps } from "../../constructs/redis-cache";

/** The IAM mode's fields of a cache built without authToken. */
const iamOf = (cache: RedisCache) => {
  if (cache.authentication.mode !== "iam") throw new Error("expected IAM authentication");
  return cache.authentication;
};

const props: RedisCacheProps = { name: "mcp-test", vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"] };
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp-test/redis-AbCdEf";
const TOKEN = "Old-token-0123456789-abcdef";
const withToken = (overrides: Partial<NonNullable<RedisCacheProps["authToken"]>> = {}): Partial<RedisCacheProps> => ({ authToken: { value: TOKEN, secretArn: SECRET_ARN, ...overrides } });

function groupOf(json: string): Record<string, unknown> {
  const [group] = Object.values(JSON.parse(json).resource[ElasticacheReplicationGroup.tfResourceType]) as Record<string, unknown>[];
  return group!;
}

function synth(overrides: Partial<RedisCacheProps> = {}, clients: string[] = []) {
  return Testing.synthScope((scope) => {
    const cache = new RedisCache(scope, "redis", { ...props, ...overrides });
    clients.forEach((sg, i) => cache.allowFrom(`client-${i}`, sg));
  });
}

describe("RedisCache", () => {
  it("encrypts in transit and at rest, and admits only the users of its own user group", () => {
    const json = JSON.parse(synth());
    expect(synth()).toHaveResourceWithProperties(ElasticacheReplicationGroup, { at_rest_encryption_enabled: "true", transit_encryption_enabled: true, transit_encryption_mode: "required" });
    const [group] = Object.values(json.resource[ElasticacheReplicationGroup.tfResourceType]) as Record<string, unknown>[];
    expect(group.auth_token).toBeUndefined();
    expect(group.user_group_ids).toEqual([expect.stringMatching(/^\$\{aws_elasticache_user_group\.redis_users_\w+\.user_group_id\}$/)]);
    expect(json.resource.aws_secretsmanager_secret).toBeUndefined();
  });

  it("authenticates its client with IAM, within the server's commands and keys, and switches the default user off", () => {
    const json = JSON.parse(synth());
    expect(synth()).toHaveResourceWithProperties(ElasticacheUser, {
      user_id: "mcp-test-cache-client",
      user_name: "mcp-test-cache-client",
      access_string: CLIENT_ACCESS_STRING,
      authentication_mode: { type: "iam" },
    });
    expect(synth()).toHaveResourceWithProperties(ElasticacheUser, { user_name: "default", access_string: "off -@all", authentication_mode: { type: "no-password-required" } });
    expect(synth()).toHaveResourceWithProperties(ElasticacheUserGroup, { user_group_id: "mcp-test-cache-users", engine: "valkey" });
    const [users] = Object.values(json.resource[ElasticacheUserGroup.tfResourceType]) as { user_ids: string[] }[];
    expect(users.user_ids).toHaveLength(2);
  });

  it("grants connecting to the cache as the client user, and nothing else", () => {
    const json = JSON.parse(Testing.synthScope((scope) => policyDocument(scope, "task", [iamOf(new RedisCache(scope, "redis", props)).connectStatement])));
    const [document] = Object.values(json.data.aws_iam_policy_document) as { statement: Record<string, unknown>[] }[];
    expect(document.statement).toEqual([
      {
        sid: "ConnectToCache",
        actions: ["elasticache:Connect"],
        resources: [expect.stringMatching(/^\$\{aws_elasticache_replication_group\.redis_group_\w+\.arn\}$/), expect.stringMatching(/^\$\{aws_elasticache_user\.redis_client-user_\w+\.arn\}$/)],
      },
    ]);
  });

  it("refuses an engine too old for IAM authentication", () => {
    expect(() => synth({ engine: "redis", engineVersion: "6.2" })).toThrow(/engineVersion 6\.2 cannot authenticate with IAM; use 7\.0 or later/);
  });

  it("fails over automatically across zones whenever there is a replica", () => {
    expect(synth({ replicas: 2 })).toHaveResourceWithProperties(ElasticacheReplicationGroup, { num_cache_clusters: 3, automatic_failover_enabled: true, multi_az_enabled: true });
    expect(synth({ replicas: 0 })).toHaveResourceWithProperties(ElasticacheReplicationGroup, { num_cache_clusters: 1, automatic_failover_enabled: false, multi_az_enabled: false });
  });

  it("evicts least recently used keys by default, in the engine's parameter family", () => {
    expect(synth()).toHaveResourceWithProperties(ElasticacheParameterGroup, { family: "valkey8", parameter: [{ name: "maxmemory-policy", value: "allkeys-lfu" }] });
    expect(synth({ engine: "redis", engineVersion: "7.1" })).toHaveResourceWithProperties(ElasticacheParameterGroup, { family: "redis7" });
  });

  it("keeps snapshots for the configured days", () => {
    expect(synth({ snapshotRetentionDays: 14 })).toHaveResourceWithProperties(ElasticacheReplicationGroup, { snapshot_retention_limit: 14 });
  });

  it("admits only the client security groups it is given, on the Redis port", () => {
    const json = JSON.parse(synth({}, ["sg-blue", "sg-green"]));
    const rules = Object.values(json.resource[VpcSecurityGroupIngressRule.tfResourceType]) as Record<string, unknown>[];
    expect(rules.map((r) => [r.referenced_security_group_id, r.from_port, r.to_port, r.cidr_ipv4])).toEqual([
      ["sg-blue", 6379, 6379, undefined],
      ["sg-green", 6379, 6379, undefined],
    ]);
  });

  it("names member clusters the way ElastiCache does, for per-node alarms", () => {
    Testing.synthScope((scope) => {
      expect(new RedisCache(scope, "redis", { ...props, replicas: 2 }).memberClusterIds).toEqual(["mcp-test-cache-001", "mcp-test-cache-002", "mcp-test-cache-003"]);
    });
  });

  it("authenticates with IAM unless told otherwise, and says so in authentication", () => {
    Testing.synthScope((scope) => {
      const cache = new RedisCache(scope, "redis", props);
      expect(cache.authentication.mode).toBe("iam");
    });
  });

  it("encrypts the slow log with CloudWatch Logs' own encryption by default, or with the KMS key it is given", () => {
    const [defaultGroup] = Object.values(JSON.parse(synth()).resource[CloudwatchLogGroup.tfResourceType]) as Record<string, unknown>[];
    expect(defaultGroup!.kms_key_id).toBeUndefined();
    const key = "arn:aws:kms:eu-west-1:123456789012:key/0b8e4a4c-1111-2222-3333-444455556666";
    expect(synth({ logsKmsKeyArn: key })).toHaveResourceWithProperties(CloudwatchLogGroup, { name: "/elasticache/mcp-test-cache/slow-log", kms_key_id: key });
  });

  describe("with an AUTH token", () => {
    it("sets the token with the ROTATE strategy by default, keeps TLS required, and creates no users or user group", () => {
      const json = synth(withToken());
      const group = groupOf(json);
      expect(group).toMatchObject({ auth_token: TOKEN, auth_token_update_strategy: "ROTATE", transit_encryption_enabled: true, transit_encryption_mode: "required", at_rest_encryption_enabled: "true" });
      // ElastiCache refuses auth_token together with user_group_ids.
      expect(group.user_group_ids).toBeUndefined();
      expect(JSON.parse(json).resource[ElasticacheUser.tfResourceType]).toBeUndefined();
      expect(JSON.parse(json).resource[ElasticacheUserGroup.tfResourceType]).toBeUndefined();
    });

    it("applies the SET strategy that finishes a rotation when told to", () => {
      expect(synth(withToken({ updateStrategy: "SET" }))).toHaveResourceWithProperties(ElasticacheReplicationGroup, { auth_token: TOKEN, auth_token_update_strategy: "SET" });
    });

    it("exposes the secret the tasks read the token from, and no IAM user or grant", () => {
      Testing.synthScope((scope) => {
        const cache = new RedisCache(scope, "redis", { ...props, ...withToken() });
        expect(cache.authentication).toEqual({ mode: "auth-token", secretArn: SECRET_ARN });
      });
    });

    it.each([
      ["too short", "Short-token-1", /has 13 characters/],
      ["too long", "a".repeat(129), /has 129 characters/],
      ["with a space", "A token with spaces 0123", /has a space/],
      ["with characters ElastiCache refuses", 'quote"percent%slash/at@-0123', /has '"', '%', '\/', '@'/],
      ["with non-ASCII characters", "Token-with-umlaut-ä-0123", /has non-ASCII or control characters/],
    ])("refuses a literal token %s, naming the prop and the fix and never the token", (_, value, problem) => {
      let message = "";
      try {
        synth(withToken({ value }));
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/^RedisCache redis: authToken\.value /);
      expect(message).toMatch(problem);
      expect(message).toMatch(/16 to 128 printable ASCII characters without spaces, '"', '%', '\/' or '@'\. Generate one/);
      expect(message).not.toContain(value);
    });

    it("leaves a token Terraform resolves at apply to ElastiCache's own check", () => {
      const json = Testing.synthScope((scope) => {
        const secret = new DataAwsSecretsmanagerSecretVersion(scope, "token", { secretId: SECRET_ARN });
        const variable = new TerraformVariable(scope, "redis_token", { type: "string", sensitive: true });
        new RedisCache(scope, "redis", { ...props, authToken: { value: secret.secretString, secretArn: secret.arn } });
        new RedisCache(scope, "other", { ...props, name: "mcp-other", authToken: { value: variable.stringValue, secretArn: SECRET_ARN } });
      });
      const groups = Object.values(JSON.parse(json).resource[ElasticacheReplicationGroup.tfResourceType]) as Record<string, unknown>[];
      expect(groups.map((g) => g.auth_token).sort()).toEqual(["${data.aws_secretsmanager_secret_version.token.secret_string}", "${var.redis_token}"]);
    });

    it("refuses a secretArn that is not a Secrets Manager secret", () => {
      expect(() => synth(withToken({ secretArn: "arn:aws:ssm:eu-west-1:123456789012:parameter/redis" }))).toThrow(/authToken\.secretArn must be a Secrets Manager secret ARN/);
    });

    it("refuses an update strategy other than ROTATE or SET", () => {
      expect(() => synth(withToken({ updateStrategy: "DELETE" as never }))).toThrow(/authToken\.updateStrategy must be "ROTATE" or "SET", not "DELETE"/);
    });

    it("refuses a client access string, which only the IAM client user has", () => {
      expect(() => synth({ ...withToken(), clientAccessString: "on ~* +@all" })).toThrow(/clientAccessString applies to the IAM client user, and with authToken there are no users/);
    });
  });
});
