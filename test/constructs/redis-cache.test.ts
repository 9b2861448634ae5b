import { Testing } from "cdktf";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { ElasticacheUser } from "@cdktf/provider-aws/lib/elasticache-user";
import { ElasticacheUserGroup } from "@cdktf/provider-aws/lib/elasticache-user-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { policyDocument } from "../../constructs/iam";
import { CLIENT_ACCESS_STRING, RedisCache, type RedisCacheProps } from "../../constructs/redis-cache";

const props: RedisCacheProps = { name: "mcp-test", vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"] };

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
    const json = JSON.parse(Testing.synthScope((scope) => policyDocument(scope, "task", [new RedisCache(scope, "redis", props).connectStatement])));
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
});
