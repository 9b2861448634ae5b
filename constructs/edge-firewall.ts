import { EDGE_FIREWALL_DEFAULTS, SERVER_MAX_BODY_BYTES, withDefaults } from "../config/defaults";
import { resourceNames } from "../config/names";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import type { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Wafv2WebAcl, type Wafv2WebAclRule } from "@cdktf/provider-aws/lib/wafv2-web-acl";
import { Wafv2WebAclAssociation } from "@cdktf/provider-aws/lib/wafv2-web-acl-association";
import { Wafv2WebAclLoggingConfiguration } from "@cdktf/provider-aws/lib/wafv2-web-acl-logging-configuration";
import { metricAlarm, type AlarmDefaults } from "./alarm";

/** WAF refuses a regex pattern longer than this (RegexMatchStatement.RegexString, and each entry of a regex pattern set). */
export const WAF_REGEX_MAX_LENGTH = 200;

/** WAF's bounds of a rate-based rule's limit, per evaluation window. */
const RATE_LIMIT_MIN = 10;
const RATE_LIMIT_MAX = 2_000_000_000;

/**
 * A regex that matches a decimal integer (leading zeros allowed) greater than `max`, and nothing
 * else: WAF compares no numbers, so "Content-Length > max" has to be spelled as text. The number is
 * bigger when it has more significant digits than `max`, or as many and, at the first digit where
 * it differs from `max`, a bigger one. Only syntax that means the same in PCRE (WAF) and JavaScript
 * (the tests) is used: anchors, a non-capturing group (WAF refuses capturing ones), classes, \d and
 * counted repeats. `$` would also match before a final newline in PCRE, which a header value never
 * carries.
 */
export function integerAbovePattern(max: number): string {
  if (!Number.isSafeInteger(max) || max < 0) throw new Error(`integerAbovePattern: max must be a non-negative integer, got ${max}`);
  const digits = String(max);
  const repeat = (n: number) => (n === 0 ? "" : n === 1 ? "\\d" : `\\d{${n}}`);
  const sameLength = [...digits].flatMap((digit, i) => {
    const next = Number(digit) + 1;
    if (next > 9) return [];
    return [`${digits.slice(0, i)}${next === 9 ? "9" : `[${next}-9]`}${repeat(digits.length - i - 1)}`];
  });
  const longer = `[1-9]\\d${digits.length === 1 ? "+" : `{${digits.length},}`}`;
  return `^0*(?:${[...sameLength, longer].join("|")})$`;
}

/** The rules of the web ACL, by what they are for (and the key of their metric name in `metrics.ruleMetricNames`). */
export type EdgeFirewallRule = "ipReputation" | "rateLimit" | "bodyTooLarge" | "commonRuleSet" | "knownBadInputs";

/** Each rule's name in the web ACL: what WAF's logs give as terminatingRuleId. */
export const EDGE_FIREWALL_RULE_NAMES: Readonly<Record<EdgeFirewallRule, string>> = {
  ipReputation: "ip-reputation",
  rateLimit: "rate-limit",
  bodyTooLarge: "body-too-large",
  commonRuleSet: "common-rule-set",
  knownBadInputs: "known-bad-inputs",
};

/** What a dashboard needs to graph the web ACL: its CloudWatch namespace, metrics and dimensions. */
export interface EdgeFirewallMetrics {
  /** "AWS/WAFV2". */
  readonly namespace: string;
  /** The request metrics WAF publishes, by terminating action (CountedRequests: matched by a rule that only counts). */
  readonly metricNames: readonly ["AllowedRequests", "BlockedRequests", "CountedRequests"];
  /** Dimensions of the whole web ACL's metrics (Rule "ALL"); put a rule's metric name in Rule for that rule alone. */
  readonly dimensions: { readonly WebACL: string; readonly Region: string; readonly Rule: string };
  /** Each rule's metric name (the Rule dimension of its metrics). */
  readonly ruleMetricNames: Readonly<Record<EdgeFirewallRule, string>>;
}

export interface EdgeFirewallProps extends AlarmDefaults {
  /** Prefix of every resource name (letters, digits, - and _; at most 100 characters), e.g. "mcp-staging". Required. */
  readonly name: string;
  /** Region of the web ACL and the load balancer: a dimension of WAF's metrics. Required. */
  readonly region: string;
  /** ARN of the Application Load Balancer the web ACL protects. Required. */
  readonly loadBalancerArn: string;
  /** Requests one client IP may make in any 5 minutes before the rate rule blocks it (WAF allows 10 to 2,000,000,000). @default 2000 */
  readonly rateLimitPer5Minutes?: number;
  /** The server's MAX_BODY_BYTES: requests declaring a longer Content-Length are blocked with a 413. @default 1048576 (1 MiB, the server's own default) */
  readonly maxBodyBytes?: number;
  /** Days to keep the web ACL's logs. @default 90 */
  readonly logRetentionDays?: number;
  /** KMS key (ARN) that encrypts the log group; its policy must let logs.<region>.amazonaws.com use it. @default CloudWatch Logs' own encryption */
  readonly logsKmsKeyArn?: string;
  /** Blocked requests per alarm period that count as a surge. @default 500 */
  readonly blockedRequestsThreshold?: number;
}

/**
 * A regional WAF web ACL in front of an Application Load Balancer: AWS's IP reputation list, a
 * per-IP rate limit, the server's body limit on the declared Content-Length, AWS's common rule set
 * and known bad inputs. Requests no rule blocks are allowed. It logs what it blocks or counts to
 * CloudWatch Logs, and alarms on a surge of blocked requests.
 */
export class EdgeFirewall extends Construct {
  public readonly webAcl: Wafv2WebAcl;
  public readonly association: Wafv2WebAclAssociation;
  public readonly logGroup: CloudwatchLogGroup;
  public readonly loggingConfiguration: Wafv2WebAclLoggingConfiguration;
  public readonly blockedRequestsAlarm: CloudwatchMetricAlarm;
  /** For the dashboard: namespace, metric names and dimensions of the web ACL's metrics. */
  public readonly metrics: EdgeFirewallMetrics;

  constructor(scope: Construct, id: string, props: EdgeFirewallProps) {
    super(scope, id);
    const o = withDefaults({ ...EDGE_FIREWALL_DEFAULTS, maxBodyBytes: SERVER_MAX_BODY_BYTES }, props);
    const { name } = props;
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(name)) throw new Error(`EdgeFirewall ${id}: name "${name}" must be 1 to 100 letters, digits, - or _ (WAF's rule, metric and web ACL names allow no others)`);
    const rateLimit = o.rateLimitPer5Minutes;
    if (!Number.isInteger(rateLimit) || rateLimit < RATE_LIMIT_MIN || rateLimit > RATE_LIMIT_MAX) {
      throw new Error(`EdgeFirewall ${id}: rateLimitPer5Minutes must be a whole number from ${RATE_LIMIT_MIN} to ${RATE_LIMIT_MAX} (WAF's bounds), got ${rateLimit}`);
    }
    const maxBodyBytes = o.maxBodyBytes;
    if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) throw new Error(`EdgeFirewall ${id}: maxBodyBytes must be a positive whole number of bytes (the server's MAX_BODY_BYTES), got ${maxBodyBytes}`);
    const contentLengthPattern = integerAbovePattern(maxBodyBytes);
    if (contentLengthPattern.length > WAF_REGEX_MAX_LENGTH) {
      throw new Error(`EdgeFirewall ${id}: maxBodyBytes ${maxBodyBytes} needs a ${contentLengthPattern.length}-character Content-Length pattern, more than WAF's ${WAF_REGEX_MAX_LENGTH}; use a smaller limit`);
    }
    if (!(o.blockedRequestsThreshold >= 0)) throw new Error(`EdgeFirewall ${id}: blockedRequestsThreshold must be a number of requests, 0 or more, got ${o.blockedRequestsThreshold}`);

    const aclName = resourceNames.webAcl(name);
    const ruleMetricNames = Object.fromEntries(Object.entries(EDGE_FIREWALL_RULE_NAMES).map(([rule, ruleName]) => [rule, `${name}-${ruleName}`])) as Record<EdgeFirewallRule, string>;
    const visibility = (rule: EdgeFirewallRule) => ({ cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: ruleMetricNames[rule] });
    // A managed group's rules keep their own actions (override none), and their own oversize handling:
    // the groups set it per rule, and the web ACL cannot change it.
    const managedGroup = (rule: EdgeFirewallRule, priority: number, groupName: string, ruleActionOverride?: object[]): Wafv2WebAclRule => ({
      name: EDGE_FIREWALL_RULE_NAMES[rule],
      priority,
      overrideAction: { none: {} },
      statement: { managed_rule_group_statement: { vendor_name: "AWS", name: groupName, ...(ruleActionOverride ? { rule_action_override: ruleActionOverride } : {}) } },
      visibilityConfig: visibility(rule),
    });
    // WAF answers a block with 403 and an empty body unless told otherwise; these two answer as the
    // server itself would (JSON-RPC errors), so a client can tell "too large" and "too fast" apart.
    const responseBodies = {
      "body-too-large": { jsonrpc: "2.0", error: { code: -32600, message: `request body exceeds ${maxBodyBytes} bytes` }, id: null },
      "rate-limited": { jsonrpc: "2.0", error: { code: -32000, message: `too many requests from this address: more than ${rateLimit} in 5 minutes` }, id: null },
    };

    const rules: Wafv2WebAclRule[] = [
      // Addresses AWS's threat intelligence knows for bots, reconnaissance and DDoS: cheapest to drop first.
      managedGroup("ipReputation", 0, "AWSManagedRulesAmazonIpReputationList"),
      {
        name: EDGE_FIREWALL_RULE_NAMES.rateLimit,
        priority: 1,
        action: { block: { customResponse: { responseCode: 429, customResponseBodyKey: "rate-limited" } } },
        // Keyed on the source IP, which is the client's: nothing sits in front of the load balancer.
        // Behind a CDN this would have to be FORWARDED_IP.
        statement: { rate_based_statement: { limit: rateLimit, aggregate_key_type: "IP", evaluation_window_sec: 300 } },
        visibilityConfig: visibility("rateLimit"),
      },
      {
        name: EDGE_FIREWALL_RULE_NAMES.bodyTooLarge,
        priority: 2,
        action: { block: { customResponse: { responseCode: 413, customResponseBodyKey: "body-too-large" } } },
        // The load balancer hands WAF only the first 8 KB of a body, so WAF cannot measure one; it can
        // read the length a request declares. A chunked body declares none, and the server enforces
        // MAX_BODY_BYTES on what arrives. This statement reads a single header, which has no oversize
        // handling to set (only the body, JSON body, all-headers and cookies components have one), and
        // no custom rule here inspects those.
        statement: {
          regex_match_statement: {
            regex_string: contentLengthPattern,
            field_to_match: { single_header: { name: "content-length" } },
            text_transformation: [{ priority: 0, type: "NONE" }],
          },
        },
        visibilityConfig: visibility("bodyTooLarge"),
      },
      // SizeRestrictions_BODY blocks every body over 8 KB, the most a regional WAF inspects; MCP tool
      // calls and their arguments often are larger, and the body-too-large rule above already holds the server's
      // own limit. Counting keeps its matches visible (metrics, logs) without refusing real calls. The
      // group's other body rules still inspect the first 8 KB.
      managedGroup("commonRuleSet", 3, "AWSManagedRulesCommonRuleSet", [{ name: "SizeRestrictions_BODY", action_to_use: { count: {} } }]),
      managedGroup("knownBadInputs", 4, "AWSManagedRulesKnownBadInputsRuleSet"),
    ];

    this.webAcl = new Wafv2WebAcl(this, "acl", {
      name: aclName,
      description: `MCP server edge (${name}): IP reputation, per-IP rate limit, body limit, common rules, known bad inputs`,
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      customResponseBody: Object.entries(responseBodies).map(([key, body]) => ({ key, contentType: "APPLICATION_JSON", content: JSON.stringify(body) })),
      rule: rules,
      // The web ACL's metric name is the WebACL dimension of its metrics: the same as its name, so the
      // dashboard and the alarm can be built from either.
      visibilityConfig: { cloudwatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: aclName },
    });
    this.association = new Wafv2WebAclAssociation(this, "association", { resourceArn: props.loadBalancerArn, webAclArn: this.webAcl.arn });

    this.logGroup = new CloudwatchLogGroup(this, "logs", {
      name: resourceNames.webAclLogGroup(name),
      retentionInDays: o.logRetentionDays,
      kmsKeyId: props.logsKmsKeyArn,
    });
    this.loggingConfiguration = new Wafv2WebAclLoggingConfiguration(this, "logging", {
      resourceArn: this.webAcl.arn,
      // The provider's log group ARN has no trailing ":*", which is the form WAF accepts.
      logDestinationConfigs: [this.logGroup.arn],
      // A bearer token must never reach a log; the session id is one for its session. WAF logs carry
      // headers but never the body.
      redactedFields: [{ singleHeader: { name: "authorization" } }, { singleHeader: { name: "mcp-session-id" } }],
      // Only requests a rule blocked or counted: the load balancer's access logs already record every
      // request, so logging the allowed ones too would pay twice for the same record. The counted ones
      // are what tuning needs (SizeRestrictions_BODY above, any rule later switched to count).
      loggingFilter: {
        defaultBehavior: "DROP",
        filter: [
          {
            behavior: "KEEP",
            requirement: "MEETS_ANY",
            condition: ["BLOCK", "COUNT", "EXCLUDED_AS_COUNT"].map((action) => ({ actionCondition: { action } })),
          },
        ],
      },
    });

    this.metrics = {
      namespace: "AWS/WAFV2",
      metricNames: ["AllowedRequests", "BlockedRequests", "CountedRequests"],
      dimensions: { WebACL: aclName, Region: props.region, Rule: "ALL" },
      ruleMetricNames,
    };
    this.blockedRequestsAlarm = metricAlarm(this, "blocked-surge", props, {
      alarmName: resourceNames.webAclBlockedSurgeAlarm(name),
      alarmDescription:
        `The web ACL ${aclName} blocks more than ${o.blockedRequestsThreshold} requests a period: an attack, a scanner or a client in a retry loop, or a rule refusing real clients. ` +
        `Check which rule blocks (BlockedRequests by Rule) and whom (log group ${resourceNames.webAclLogGroup(name)}: terminatingRuleId, httpRequest.clientIp); if real clients are refused, switch that rule to count.`,
      namespace: this.metrics.namespace,
      metricName: "BlockedRequests",
      dimensions: { ...this.metrics.dimensions },
      statistic: "Sum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: o.blockedRequestsThreshold,
      // WAF publishes BlockedRequests only when it blocks something.
      treatMissingData: "notBreaching",
    });
  }
}
