import { Testing } from "cdktf";
import { ElasticacheParameterGroup } from "@cdktf/provider-aws/lib/elasticache-parameter-group";
import { ElasticacheReplicationGroup } from "@cdktf/provider-aws/lib/elasticache-replication-group";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { RedisCache, type RedisCacheProps } from "../../constructs/redis-cache";

const props: RedisCacheProps = { name: "mcp-test", vpcId: "vpc-1", subnetIds: ["subnet-a", "subnet-b"] };

function synth(overrides: Partial<RedisCacheProps> = {}, clients: string[] = []) {
  return Testing.synthScope((scope) => {
    const cache = new RedisCache(scope, "redis", { ...props, ...overrides });
    clients.forEach((sg, i) => cache.allowFrom(`client-${i}`, sg));
  });
}

describe("RedisCache", () => {
  it("encrypts in transit and at rest and authenticates with a token from Secrets Manager", () => {
    expect(synth()).toHaveResourceWithProperties(ElasticacheReplicationGroup, {
      at_rest_encryption_enabled: "true",
      transit_encryption_enabled: true,
      transit_encryption_mode: "required",
      auth_token_update_strategy: "SET",
    });
    const [group] = Object.values(JSON.parse(synth()).resource[ElasticacheReplicationGroup.tfResourceType]) as { auth_token: string }[];
    expect(group.auth_token).toMatch(/^\$\{aws_secretsmanager_secret_version\.redis_auth-token-value_\w+\.secret_string\}$/);
  });

  it("generates the token once, without another provider, and never regenerates it", () => {
    expect(synth()).toHaveResourceWithProperties(SecretsmanagerSecretVersion, {
      secret_string: '${replace("${uuid()}${uuid()}", "-", "")}',
      lifecycle: { ignore_changes: ["secret_string"] },
    });
  });

  it("fails over automatically across zones whenever there is a replica", () => {
    expect(synth({ replicas: 2 })).toHaveResourceWithProperties(ElasticacheReplicationGroup, { num_cache_clusters: 3, automatic_failover_enabled: true, multi_az_enabled: true });
    expect(synth({ replicas: 0 })).toHaveResourceWithProperties(ElasticacheReplicationGroup, { num_cache_clusters: 1, automatic_failover_enabled: false, multi_az_enabled: false });
  });

  it("evicts least recently used keys by default, in the engine's parameter family", () => {
    expect(synth()).toHaveResourceWithProperties(ElasticacheParameterGroup, { family: "valkey8", parameter: [{ name: "maxmemory-policy", value: "allkeys-lru" }] });
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
