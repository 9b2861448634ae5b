import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { ConfigError, loadAllEnvironments, parseEnvironmentConfig, parseReleaseManifest, writeReleaseManifest } from "../config/load";
import { rawConfig, withValue } from "./support/fixtures";

function problemsOf(raw: unknown, parse: (raw: unknown) => unknown = parseEnvironmentConfig): string[] {
  try {
    parse(raw);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error("expected the config to be refused");
}

describe("environment config", () => {
  it.each(["staging", "production"] as const)("the repository's %s config is valid", (name) => {
    expect(() => parseEnvironmentConfig(rawConfig(name))).not.toThrow();
  });

  it("fills in defaults for what the file leaves out", () => {
    const config = parseEnvironmentConfig(rawConfig("staging"));
    expect(config.loadBalancer.healthCheck).toEqual({ intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 2, unhealthyThreshold: 3 });
    expect(config.redis.maxmemoryPolicy).toBe("allkeys-lfu");
    expect(config.service.containerPort).toBe(8080);
  });

  // Each row: what is wrong, the field changed, its bad value, the field the message must name, and a phrase of the fix.
  const staging = rawConfig("staging");
  const production = rawConfig("production");
  const cases: [string, object, string, unknown, string, RegExp][] = [
    ["malformed VPC CIDR", staging, "network.vpcCidr", "10.20.0.0/33", "network.vpcCidr", /CIDR block/],
    ["CIDR with host bits set", staging, "network.vpcCidr", "10.20.1.0/16", "network.vpcCidr", /no host bits/],
    ["subnet outside the VPC", staging, "network.publicSubnetCidrs", ["10.20.0.0/24", "10.99.1.0/24"], "network.publicSubnetCidrs[1]", /inside the VPC/],
    ["overlapping subnets", staging, "network.privateSubnetCidrs", ["10.20.16.0/20", "10.20.0.0/16"], "network.privateSubnetCidrs[1]", /overlaps/],
    ["fewer subnets than zones", staging, "network.privateSubnetCidrs", ["10.20.16.0/20"], "network.privateSubnetCidrs", /one subnet per availability zone/],
    ["a single availability zone", staging, "network.availabilityZones", ["eu-west-1a"], "network.availabilityZones", /two or more/],
    ["zone of another region", staging, "network.availabilityZones", ["eu-west-1a", "us-east-1b"], "network.availabilityZones[1]", /region eu-west-1/],
    ["zone listed twice", staging, "network.availabilityZones", ["eu-west-1a", "eu-west-1a"], "network.availabilityZones[1]", /listed twice/],
    ["unknown region", staging, "aws.region", "europe-west1", "aws.region", /AWS region/],
    ["short account id", staging, "aws.accountId", "12345", "aws.accountId", /12-digit/],
    ["invalid Fargate cpu/memory pair", staging, "service.memory", 4096, "service.memory", /not a valid Fargate memory/],
    ["invalid Fargate cpu", staging, "service.cpu", 300, "service.cpu", /Fargate cpu value/],
    ["min above max tasks", staging, "service.minTasks", 9, "service.minTasks", /<= maxTasks/],
    ["idle minimum above minimum", staging, "service.idleMinTasks", 5, "service.idleMinTasks", /<= minTasks/],
    ["port out of range", staging, "service.containerPort", 70000, "service.containerPort", /between 1 and 65535/],
    ["metrics on the traffic port", staging, "service.metricsPort", 8080, "service.metricsPort", /other than containerPort/],
    ["test listener on 443", staging, "loadBalancer.testListenerPort", 443, "loadBalancer.testListenerPort", /other than 80 and 443/],
    ["test listener open to the internet", staging, "loadBalancer.testListenerCidrs", ["0.0.0.0/0"], "loadBalancer.testListenerCidrs[0]", /whole internet/],
    // An internet-facing ALB never sees a private source address: such a rule admits no one.
    ["test listener for a private range", staging, "loadBalancer.testListenerCidrs", ["198.51.100.0/24", "10.0.0.0/8"], "loadBalancer.testListenerCidrs[1]", /10\.0\.0\.0\/8 is a private range, .* NAT gateways, which the test listener admits already/],
    ["production without a certificate", production, "loadBalancer.certificateArn", undefined, "loadBalancer.certificateArn", /requires an ACM certificate/],
    ["production without a host name", production, "loadBalancer.hostName", undefined, "loadBalancer.hostName", /DNS name on its certificate/],
    ["production without deletion protection", production, "loadBalancer.deletionProtection", false, "loadBalancer.deletionProtection", /requires deletionProtection/],
    ["production without Redis failover", production, "redis.replicas", 0, "redis.replicas", /fails over/],
    ["malformed certificate ARN", production, "loadBalancer.certificateArn", "my-cert", "loadBalancer.certificateArn", /ACM certificate ARN/],
    ["deregistration slower than the stop timeout", staging, "loadBalancer.deregistrationDelaySeconds", 300, "loadBalancer.deregistrationDelaySeconds", /stopTimeoutSeconds/],
    ["stop timeout above Fargate's maximum", staging, "service.stopTimeoutSeconds", 300, "service.stopTimeoutSeconds", /Fargate maximum/],
    ["keep-alive not above the idle timeout", staging, "service.keepAliveTimeoutSeconds", 60, "service.keepAliveTimeoutSeconds", /502/],
    ["secret in a plain environment variable", staging, "service.environment", { UPSTREAM_API_KEY: "abc" }, "service.environment.UPSTREAM_API_KEY", /Secrets Manager/],
    ["log retention CloudWatch does not offer", staging, "service.logRetentionDays", 10, "service.logRetentionDays", /retention period/],
    ["misspelt field", staging, "network.natGateway", "single", "network.natGateway", /unknown field; did you mean "natGateways"\?/],
    ["misspelt nested field", staging, "loadBalancer.healthCheck", { intervalSecs: 5 }, "loadBalancer.healthCheck.intervalSecs", /did you mean "intervalSeconds"\?/],
    ["field far from any known one", staging, "service.flavour", "x", "service.flavour", /unknown field; expected one of cpu, memory, /],
    ["upstream that is not a URL", staging, "service.upstreamUrl", "api.example.com", "service.upstreamUrl", /http\(s\) URL/],
    ["unknown tier", staging, "tier", "prod", "tier", /production/],
    ["production without authentication", production, "auth", undefined, "auth", /production requires authentication/],
    ["JWT auth on an HTTP-only load balancer", staging, "auth", (production as { auth: object }).auth, "auth", /needs HTTPS, or bearer tokens cross the internet in cleartext/],
    ["an issuer over plain HTTP", production, "auth.issuer", "http://login.example.com/", "auth.issuer", /https:\/\/ URL/],
    ["a required scope with a space", production, "auth.requiredScopes", ["mcp tools"], "auth.requiredScopes[0]", /one OAuth scope/],
    ["the verifier's secret in another account", production, "auth.verifier.clientSecretArn", "arn:aws:secretsmanager:eu-west-1:333333333333:secret:mcp-production/verify-client-AbCdEf", "auth.verifier.clientSecretArn", /this environment's account and region/],
    ["the verifier's secret outside the environment's names", production, "auth.verifier.clientSecretArn", "arn:aws:secretsmanager:eu-west-1:222222222222:secret:verify-client-AbCdEf", "auth.verifier.clientSecretArn", /named mcp-production\/\.\.\.: .* workload boundary/],
    ["the verifier's secret as one JSON key", production, "auth.verifier.clientSecretArn", "arn:aws:secretsmanager:eu-west-1:222222222222:secret:mcp-production/verify-client-AbCdEf:secret::", "auth.verifier.clientSecretArn", /no JSON key/],
  ];

  it.each(cases)("refuses %s, naming the field", (_what, base, field, value, named, fix) => {
    const problems = problemsOf(withValue(base, field, value));
    const problem = problems.find((p) => p.startsWith(`${named}:`));
    expect(problem).toBeDefined();
    expect(problem).toMatch(fix);
  });

  it("lists every bad field in one message", () => {
    let raw = withValue(rawConfig("production"), "redis.replicas", 0);
    raw = withValue(raw, "service.minTasks", 50);
    raw = withValue(raw, "aws.accountId", "x");
    const error = (() => {
      try {
        parseEnvironmentConfig(raw, "config/environments/production.json");
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error("expected an error");
    })();
    expect(error.message).toMatch(/^config\/environments\/production\.json is invalid:/);
    expect(error.problems.map((p) => p.split(":")[0])).toEqual(expect.arrayContaining(["redis.replicas", "service.minTasks", "aws.accountId"]));
  });
});

describe("release manifest", () => {
  const good = {
    environment: "staging",
    stable: "blue",
    colors: {
      blue: { image: `123456789012.dkr.ecr.eu-west-1.amazonaws.com/mcp-server@sha256:${"a".repeat(64)}`, version: "1.0.0", weight: 100 },
      green: { image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mcp-server:3f2a9c1", version: "1.1.0", weight: 0 },
    },
  };

  it("accepts digests and immutable tags", () => {
    expect(() => parseReleaseManifest(good)).not.toThrow();
  });

  it.each([
    ["weights that do not sum to 100", "colors.green.weight", 20, "colors", /summing to 100/],
    ["a fractional weight", "colors.green.weight", 9.5, "colors.green.weight", /whole percentage/],
    ["a moving tag", "colors.green.image", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mcp-server:latest", "colors.green.image", /moves between builds/],
    ["an untagged image", "colors.green.image", "mcp-server", "colors.green.image", /pinned by digest/],
    ["a stable colour without traffic", "stable", "green", "stable", /no traffic/],
  ])("refuses %s", (_what, field, value, named, fix) => {
    const problem = problemsOf(withValue(good, field, value), parseReleaseManifest).find((p) => p.startsWith(`${named}:`));
    expect(problem).toMatch(fix);
  });

  it("is written atomically and refuses to write an invalid manifest", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "manifest-"));
    fs.mkdirSync(path.join(dir, "releases"));
    const file = path.join(dir, "releases", "staging.json");
    writeReleaseManifest("staging", parseReleaseManifest(good), dir);
    const before = fs.readFileSync(file, "utf8");
    const bad = withValue(good, "colors.green.weight", 50) as never;
    expect(() => writeReleaseManifest("staging", bad, dir)).toThrow(ConfigError);
    expect(fs.readFileSync(file, "utf8")).toBe(before);
    expect(fs.readdirSync(path.join(dir, "releases"))).toEqual(["staging.json"]);
  });
});

describe("loading every environment", () => {
  it("loads staging and production from config/", () => {
    expect(loadAllEnvironments().map((e) => e.config.name)).toEqual(["production", "staging"]);
  });

  it("stops the synth with the message alone, no stack trace, on bad config", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "config-"));
    fs.cpSync(path.join(__dirname, "..", "config"), path.join(dir, "config"), { recursive: true, filter: (src) => !src.endsWith(".ts") });
    const file = path.join(dir, "config", "environments", "staging.json");
    fs.writeFileSync(file, JSON.stringify(withValue(rawConfig("staging"), "service.minTasks", 99)));
    const synth = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", path.join(__dirname, "..", "main.ts")], {
      env: { ...process.env, MCP_DEPLOY_CONFIG_DIR: path.join(dir, "config"), CDKTF_OUTDIR: path.join(dir, "out") },
      encoding: "utf8",
    });
    const stderr = synth.stderr;
    expect(synth.status).toBe(1);
    expect(stderr).toContain("service.minTasks: expected minTasks (99) <= maxTasks (4)");
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
