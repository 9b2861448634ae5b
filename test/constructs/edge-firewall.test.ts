import { Testing } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Wafv2WebAcl } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { EDGE_FIREWALL_DEFAULTS } from "../../config/defaults";
import { EdgeFirewall, type EdgeFirewallProps, WAF_REGEX_MAX_LENGTH, integerAbovePattern } from "../../constructs/edge-firewall";

const loadBalancerArn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/mcp-test/0123456789abcdef";
const props: EdgeFirewallProps = { name: "mcp-test", region: "eu-west-1", loadBalancerArn, topicArn: "arn:aws:sns:eu-west-1:123456789012:alarms" };

const synth = (overrides: Partial<EdgeFirewallProps> = {}) => Testing.synthScope((scope) => new EdgeFirewall(scope, "edge", { ...props, ...overrides }));
const only = <T>(json: string, type: string): T => {
  const all = Object.values(JSON.parse(json).resource[type] ?? {}) as T[];
  expect(all).toHaveLength(1);
  return all[0];
};

interface Rule {
  name: string;
  priority: number;
  action?: Record<string, unknown>;
  override_action?: Record<string, unknown>;
  statement: Record<string, Record<string, unknown>>;
  visibility_config: { cloudwatch_metrics_enabled: boolean; sampled_requests_enabled: boolean; metric_name: string };
}
interface WebAcl {
  name: string;
  scope: string;
  default_action: Record<string, unknown>;
  rule: Rule[];
  custom_response_body: { key: string; content: string; content_type: string }[];
}
const acl = (json: string) => only<WebAcl>(json, Wafv2WebAcl.tfResourceType);
const rule = (json: string, name: string) => acl(json).rule.find((r) => r.name === name)!;

/** Whether a Content-Length value declares more than `max` bytes, computed exactly. */
const declaresMore = (value: string, max: number) => /^\d+$/.test(value) && BigInt(value) > BigInt(max);

describe("integerAbovePattern", () => {
  const matches = (max: number, value: string) => new RegExp(integerAbovePattern(max)).test(value);

  it("matches one more than the limit and not the limit itself, with or without leading zeros", () => {
    const max = 1_048_576;
    expect(["1048577", "01048577", "0000001048577", "1048580", "1049000", "2000000", "10000000", "99999999"].filter((v) => !matches(max, v))).toEqual([]);
    expect(["1048576", "01048576", "0001048576", "1048575", "999999", "0", "00000", "1"].filter((v) => matches(max, v))).toEqual([]);
  });

  it("matches very long values, however many leading zeros come first", () => {
    expect(matches(1_048_576, "9".repeat(500))).toBe(true);
    expect(matches(1_048_576, `${"0".repeat(500)}1048577`)).toBe(true);
    expect(matches(1_048_576, `${"0".repeat(500)}1048576`)).toBe(false);
  });

  it("matches nothing but digits: no sign, space, exponent, hex or list", () => {
    expect(["", " ", "+1048577", "-1048577", " 1048577", "1048577 ", "1e9", "0x200000", "1048577, 1048577", "1048577.0", "١٠٤٨٥٧٧"].filter((v) => matches(1_048_576, v))).toEqual([]);
  });

  it("agrees with exact comparison for every limit up to 1200 and every value up to 1300", () => {
    const wrong: string[] = [];
    for (let max = 0; max <= 1200; max++) {
      const re = new RegExp(integerAbovePattern(max));
      for (let n = 0; n <= 1300; n++) if (re.test(String(n)) !== n > max) wrong.push(`${n} vs ${max}`);
    }
    expect(wrong).toEqual([]);
  });

  it("agrees with exact comparison around random limits up to the server's 64 MiB, and for random long values", () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const wrong: string[] = [];
    for (let i = 0; i < 2000; i++) {
      const max = Math.floor(random() * 64 * 1024 * 1024) + 1;
      const re = new RegExp(integerAbovePattern(max));
      const near = [max - 10, max - 1, max, max + 1, max + 10, max * 10, Math.floor(max / 10)].filter((n) => n >= 0).map(String);
      const long = Array.from({ length: 5 }, () => String(Math.floor(random() * 10 ** 15)) + String(Math.floor(random() * 10 ** 15)));
      for (const value of [...near, ...long].flatMap((v) => [v, `0${v}`, `000${v}`])) if (re.test(value) !== declaresMore(value, max)) wrong.push(`${value} vs ${max}`);
    }
    expect(wrong).toEqual([]);
  });

  it("uses only syntax that PCRE (WAF) and JavaScript read alike, and no capturing group (which WAF refuses)", () => {
    for (const max of [0, 9, 10, 1024, 1_048_576, 67_108_864, 999_999_999]) {
      const pattern = integerAbovePattern(max);
      expect(pattern).toMatch(/^\^0\*\(\?:.*\)\$$/);
      // What is left once the allowed tokens are removed: nothing.
      expect(pattern.replace(/^\^0\*\(\?:|\)\$$/g, "").replace(/\[\d-9\]|\\d\{\d+,?\}|\\d\+|\\d|\d|\|/g, "")).toBe("");
      expect(pattern.slice(1)).not.toMatch(/\((?!\?:)/);
    }
  });

  it("stays within WAF's 200 characters for every limit the server accepts (1 KiB to 64 MiB)", () => {
    const longest = Math.max(...[1024, 9_999_998, 10_485_760, 12_345_678, 67_108_864, 19_999_998, 10_000_000].map((max) => integerAbovePattern(max).length));
    expect(longest).toBeLessThanOrEqual(WAF_REGEX_MAX_LENGTH);
  });
});

describe("EdgeFirewall", () => {
  it("is a regional web ACL that allows what no rule blocks, associated with the load balancer", () => {
    const json = synth();
    expect(acl(json)).toMatchObject({ name: "mcp-test", scope: "REGIONAL", default_action: { allow: {} } });
    expect(json).toHaveResourceWithProperties(Wafv2WebAclAssociation, { resource_arn: loadBalancerArn, web_acl_arn: expect.stringMatching(/^\$\{aws_wafv2_web_acl\.edge_acl_\w+\.arn\}$/) });
  });

  it("runs AWS's IP reputation list, the rate limit, the body limit, the common rule set and known bad inputs, in that order", () => {
    const rules = [...acl(synth()).rule].sort((a, b) => a.priority - b.priority);
    expect(rules.map((r) => [r.name, Object.keys(r.statement)[0]])).toEqual([
      ["ip-reputation", "managed_rule_group_statement"],
      ["rate-limit", "rate_based_statement"],
      ["body-too-large", "regex_match_statement"],
      ["common-rule-set", "managed_rule_group_statement"],
      ["known-bad-inputs", "managed_rule_group_statement"],
    ]);
  });

  it("keeps the managed groups' own actions, except SizeRestrictions_BODY of the common rule set, which only counts", () => {
    const json = synth();
    const groups = acl(json).rule.filter((r) => r.statement.managed_rule_group_statement);
    expect(groups.map((r) => [r.statement.managed_rule_group_statement.vendor_name, r.statement.managed_rule_group_statement.name, r.override_action, r.action])).toEqual([
      ["AWS", "AWSManagedRulesAmazonIpReputationList", { none: {} }, undefined],
      ["AWS", "AWSManagedRulesCommonRuleSet", { none: {} }, undefined],
      ["AWS", "AWSManagedRulesKnownBadInputsRuleSet", { none: {} }, undefined],
    ]);
    expect(groups.map((r) => r.statement.managed_rule_group_statement.rule_action_override)).toEqual([undefined, [{ name: "SizeRestrictions_BODY", action_to_use: { count: {} } }], undefined]);
  });

  it("blocks a client IP past rateLimitPer5Minutes in a 5-minute window with a 429", () => {
    expect(rule(synth(), "rate-limit").statement.rate_based_statement).toEqual({ limit: EDGE_FIREWALL_DEFAULTS.rateLimitPer5Minutes, aggregate_key_type: "IP", evaluation_window_sec: 300 });
    const json = synth({ rateLimitPer5Minutes: 750 });
    expect(rule(json, "rate-limit")).toMatchObject({ statement: { rate_based_statement: { limit: 750 } }, action: { block: { custom_response: { response_code: 429, custom_response_body_key: "rate-limited" } } } });
    expect(acl(json).custom_response_body.find((b) => b.key === "rate-limited")).toMatchObject({ content_type: "APPLICATION_JSON", content: expect.stringContaining("more than 750 in 5 minutes") });
  });

  it("blocks a declared Content-Length over maxBodyBytes with the 413 and JSON-RPC error the server itself answers", () => {
    const json = synth({ maxBodyBytes: 65_536 });
    const statement = rule(json, "body-too-large").statement.regex_match_statement;
    expect(statement).toEqual({ regex_string: integerAbovePattern(65_536), field_to_match: { single_header: { name: "content-length" } }, text_transformation: [{ priority: 0, type: "NONE" }] });
    const re = new RegExp(statement.regex_string as string);
    expect([re.test("65536"), re.test("65537")]).toEqual([false, true]);
    expect(rule(json, "body-too-large").action).toEqual({ block: { custom_response: { response_code: 413, custom_response_body_key: "body-too-large" } } });
    const body = acl(json).custom_response_body.find((b) => b.key === "body-too-large")!;
    expect(JSON.parse(body.content)).toEqual({ jsonrpc: "2.0", error: { code: -32600, message: "request body exceeds 65536 bytes" }, id: null });
  });

  it("holds the server's default body limit of 1 MiB when maxBodyBytes is left out", () => {
    expect(rule(synth(), "body-too-large").statement.regex_match_statement.regex_string).toBe(integerAbovePattern(1_048_576));
  });

  it("gives every rule CloudWatch metrics and sampled requests under a metric name of its own", () => {
    const configs = acl(synth()).rule.map((r) => r.visibility_config);
    expect(configs.every((c) => c.cloudwatch_metrics_enabled && c.sampled_requests_enabled)).toBe(true);
    expect(configs.map((c) => c.metric_name).sort()).toEqual(["mcp-test-body-too-large", "mcp-test-common-rule-set", "mcp-test-ip-reputation", "mcp-test-known-bad-inputs", "mcp-test-rate-limit"]);
  });

  it("logs to a log group named aws-waf-logs-<name>, kept logRetentionDays, with CloudWatch Logs' own encryption unless given a key", () => {
    expect(only<Record<string, unknown>>(synth(), CloudwatchLogGroup.tfResourceType)).toEqual({ name: "aws-waf-logs-mcp-test", retention_in_days: 90 });
    const kms = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";
    expect(synth({ logRetentionDays: 365, logsKmsKeyArn: kms })).toHaveResourceWithProperties(CloudwatchLogGroup, { name: "aws-waf-logs-mcp-test", retention_in_days: 365, kms_key_id: kms });
  });

  it("sends the logs to the log group's ARN, with the authorization and session headers redacted, keeping only what a rule blocked or counted", () => {
    const logging = only<Record<string, unknown>>(synth(), Wafv2WebAclLoggingConfiguration.tfResourceType);
    // The provider's arn attribute of a log group carries no ":*", the form WAF requires.
    expect(logging.log_destination_configs).toEqual([expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.edge_logs_\w+\.arn\}$/)]);
    expect(logging.resource_arn).toMatch(/^\$\{aws_wafv2_web_acl\.edge_acl_\w+\.arn\}$/);
    expect(logging.redacted_fields).toEqual(expect.arrayContaining([{ single_header: { name: "authorization" } }]));
    expect(logging.logging_filter).toEqual({
      default_behavior: "DROP",
      filter: [{ behavior: "KEEP", requirement: "MEETS_ANY", condition: ["BLOCK", "COUNT", "EXCLUDED_AS_COUNT"].map((action) => ({ action_condition: { action } })) }],
    });
  });

  it("alarms on a surge of blocked requests, which WAF reports only when there are some", () => {
    const json = synth({ blockedRequestsThreshold: 120, periodSeconds: 300 });
    expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: "mcp-test-waf-blocked-surge",
      namespace: "AWS/WAFV2",
      metric_name: "BlockedRequests",
      dimensions: { WebACL: "mcp-test", Region: "eu-west-1", Rule: "ALL" },
      statistic: "Sum",
      comparison_operator: "GreaterThanThreshold",
      threshold: 120,
      period: 300,
      treat_missing_data: "notBreaching",
      alarm_actions: [props.topicArn],
      ok_actions: [props.topicArn],
    });
    expect(only<{ alarm_description: string }>(json, CloudwatchMetricAlarm.tfResourceType).alarm_description).toMatch(/aws-waf-logs-mcp-test/);
  });

  it("exposes the web ACL's metric dimensions and each rule's metric name for the dashboard", () => {
    let firewall: EdgeFirewall | undefined;
    Testing.synthScope((scope) => (firewall = new EdgeFirewall(scope, "edge", props)));
    expect(firewall!.metrics).toEqual({
      namespace: "AWS/WAFV2",
      metricNames: ["AllowedRequests", "BlockedRequests", "CountedRequests"],
      dimensions: { WebACL: "mcp-test", Region: "eu-west-1", Rule: "ALL" },
      ruleMetricNames: {
        ipReputation: "mcp-test-ip-reputation",
        rateLimit: "mcp-test-rate-limit",
        bodyTooLarge: "mcp-test-body-too-large",
        commonRuleSet: "mcp-test-common-rule-set",
        knownBadInputs: "mcp-test-known-bad-inputs",
      },
    });
  });

  it.each([
    [{ rateLimitPer5Minutes: 9 }, /rateLimitPer5Minutes must be a whole number from 10 to 2000000000 \(WAF's bounds\), got 9/],
    [{ rateLimitPer5Minutes: 100.5 }, /rateLimitPer5Minutes must be a whole number .*got 100\.5/],
    [{ rateLimitPer5Minutes: 3_000_000_000 }, /rateLimitPer5Minutes must be a whole number .*got 3000000000/],
    [{ maxBodyBytes: 0 }, /maxBodyBytes must be a positive whole number of bytes \(the server's MAX_BODY_BYTES\), got 0/],
    [{ maxBodyBytes: -1 }, /maxBodyBytes must be a positive whole number .*got -1/],
    [{ maxBodyBytes: 1.5 }, /maxBodyBytes must be a positive whole number .*got 1\.5/],
    [{ maxBodyBytes: Number.NaN }, /maxBodyBytes must be a positive whole number .*got NaN/],
    [{ maxBodyBytes: 123_456_789_012_345 }, /maxBodyBytes 123456789012345 needs a 264-character Content-Length pattern, more than WAF's 200; use a smaller limit/],
    [{ blockedRequestsThreshold: -1 }, /blockedRequestsThreshold must be a number of requests, 0 or more, got -1/],
    [{ name: "mcp test" }, /name "mcp test" must be 1 to 100 letters, digits, - or _/],
  ])("refuses %p with an error naming the fix", (overrides, message) => {
    expect(() => synth(overrides as Partial<EdgeFirewallProps>)).toThrow(message);
  });
});
