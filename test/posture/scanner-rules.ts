import { SECRET_LOOKING_NAME } from "../../config/schema";
import type { TerraformJson } from "../support/fixtures";

/*
 * The scanner rules that matter for what the stacks build, each mirroring one Checkov (CKV) or
 * Trivy (AVD) rule on the synthesized Terraform JSON, so a pull request sees a finding without
 * either scanner installed. A rule returns its findings; security/accepted-findings.json says
 * which of those the stacks keep on purpose, and why.
 */

/** One resource a rule finds wanting: its Terraform address (`type.logical_id`), and what is wrong. */
export interface Finding {
  readonly resource: string;
  readonly detail: string;
}

export interface ScannerRule {
  /** The scanner's id (CKV_AWS_..., CKV2_AWS_..., AVD-AWS-...), or the AWS Security Hub control where neither scanner has one. */
  readonly id: string;
  readonly title: string;
  check(json: TerraformJson): Finding[];
}

type Resource = Record<string, unknown>;
const all = (json: TerraformJson, type: string): [string, Resource][] => Object.entries(json.resource[type] ?? {}).map(([id, r]) => [`${type}.${id}`, r]);
const ref = (address: string, attribute: string) => `\${${address}.${attribute}}`;
const unless = (address: string, ok: boolean, detail: string): Finding[] => (ok ? [] : [{ resource: address, detail }]);

interface Container {
  name: string;
  readonlyRootFilesystem?: boolean;
  environment?: { name: string; value: string }[];
}
const containers = (task: Resource) => JSON.parse(String(task.container_definitions)) as Container[];

/** Trivy's outdated policies (AVD-AWS-0047). */
const OUTDATED_TLS_POLICIES = ["2016-08", "2015-05", "FS-2018-06", "FS-1-1-2019-08", "TLS-1-0-2015-04", "TLS-1-1-2017-01", "TLS13-1-0-2021-06", "TLS13-1-1-2021-06", "TLS13-1-2-Ext1-2021-06", "TLS13-1-2-Ext2-2021-06"].map((p) => `ELBSecurityPolicy-${p}`);

/** TLS policies with TLS 1.2 or later and forward-secret (ECDHE) AEAD ciphers only. */
const FORWARD_SECRET_TLS_POLICIES = ["ELBSecurityPolicy-TLS13-1-2-Res-2021-06", "ELBSecurityPolicy-TLS13-1-3-2021-06", "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04", "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04"];

export const SCANNER_RULES: readonly ScannerRule[] = [
  {
    id: "CKV2_AWS_28",
    title: "an internet-facing application load balancer is protected by a WAF web ACL",
    check: (json) => {
      const protectedArns = all(json, "aws_wafv2_web_acl_association").map(([, a]) => a.resource_arn);
      return all(json, "aws_lb")
        .filter(([, lb]) => lb.internal !== true)
        .flatMap(([address]) => unless(address, protectedArns.includes(ref(address, "arn")), "no aws_wafv2_web_acl_association names it"));
    },
  },
  {
    id: "CKV2_AWS_31",
    title: "a WAF web ACL has a logging configuration",
    check: (json) => {
      const logged = all(json, "aws_wafv2_web_acl_logging_configuration").map(([, l]) => l.resource_arn);
      return all(json, "aws_wafv2_web_acl").flatMap(([address]) => unless(address, logged.includes(ref(address, "arn")), "no aws_wafv2_web_acl_logging_configuration"));
    },
  },
  {
    id: "CKV_AWS_192",
    title: "a WAF web ACL blocks Log4j message lookups (AWSManagedRulesKnownBadInputsRuleSet)",
    check: (json) =>
      all(json, "aws_wafv2_web_acl").flatMap(([address, acl]) => {
        // Checkov also wants the group's own actions: an override to count would only watch exploits.
        const rules = (acl.rule ?? []) as { statement?: { managed_rule_group_statement?: { name: string } }; override_action?: { none?: unknown } }[];
        const blocking = rules.some((r) => r.statement?.managed_rule_group_statement?.name === "AWSManagedRulesKnownBadInputsRuleSet" && r.override_action?.none !== undefined);
        return unless(address, blocking, "no AWSManagedRulesKnownBadInputsRuleSet rule with override_action none");
      }),
  },
  {
    id: "CKV_AWS_158",
    title: "a CloudWatch log group is encrypted with a KMS key",
    check: (json) => all(json, "aws_cloudwatch_log_group").flatMap(([address, group]) => unless(address, Boolean(group.kms_key_id), `${String(group.name)} has no kms_key_id`)),
  },
  {
    id: "CKV_AWS_66",
    title: "a CloudWatch log group has a retention period",
    check: (json) => all(json, "aws_cloudwatch_log_group").flatMap(([address, group]) => unless(address, Number(group.retention_in_days) > 0, `${String(group.name)} keeps logs forever`)),
  },
  {
    id: "CKV_AWS_336",
    title: "every ECS container has a read-only root filesystem",
    check: (json) =>
      all(json, "aws_ecs_task_definition").flatMap(([address, task]) =>
        containers(task).flatMap((c) => unless(address, c.readonlyRootFilesystem === true, `container ${c.name} has a writable root filesystem`)),
      ),
  },
  {
    id: "AVD-AWS-0036",
    title: "no ECS task definition puts a secret in a plain environment variable",
    check: (json) =>
      all(json, "aws_ecs_task_definition").flatMap(([address, task]) =>
        containers(task).flatMap((c) => (c.environment ?? []).filter((v) => SECRET_LOOKING_NAME.test(v.name)).map((v) => ({ resource: address, detail: `${c.name} sets ${v.name} in plain text` }))),
      ),
  },
  {
    id: "CKV_AWS_249",
    title: "an ECS task definition's execution role is not its task role",
    check: (json) => all(json, "aws_ecs_task_definition").flatMap(([address, task]) => unless(address, task.execution_role_arn !== task.task_role_arn, "the task runs with its execution role")),
  },
  {
    id: "CKV_AWS_333",
    title: "an ECS service assigns no public IP to its tasks",
    check: (json) =>
      all(json, "aws_ecs_service").flatMap(([address, service]) => unless(address, (service.network_configuration as { assign_public_ip?: boolean } | undefined)?.assign_public_ip === false, "assign_public_ip is not false")),
  },
  {
    id: "CKV_AWS_65",
    title: "an ECS cluster has Container Insights on",
    check: (json) =>
      all(json, "aws_ecs_cluster").flatMap(([address, cluster]) => {
        const setting = ((cluster.setting ?? []) as { name: string; value: string }[]).find((s) => s.name === "containerInsights");
        return unless(address, ["enabled", "enhanced"].includes(setting?.value ?? ""), "containerInsights is off");
      }),
  },
  {
    id: "CKV_AWS_2",
    title: "a load balancer listener serves HTTPS, or redirects HTTP to HTTPS",
    check: (json) =>
      all(json, "aws_lb_listener").flatMap(([address, listener]) => {
        const redirects = ((listener.default_action ?? []) as { type: string; redirect?: { protocol?: string } }[]).some((a) => a.type === "redirect" && a.redirect?.protocol === "HTTPS");
        return unless(address, listener.protocol === "HTTPS" || redirects, `port ${String(listener.port)} serves plain HTTP`);
      }),
  },
  {
    id: "CKV_AWS_103",
    title: "an HTTPS listener uses TLS 1.2 or later, here with forward-secret ciphers only",
    check: (json) =>
      all(json, "aws_lb_listener")
        .filter(([, listener]) => listener.protocol === "HTTPS")
        .flatMap(([address, listener]) => unless(address, FORWARD_SECRET_TLS_POLICIES.includes(String(listener.ssl_policy)), `ssl_policy ${String(listener.ssl_policy)}`)),
  },
  {
    id: "AVD-AWS-0047",
    title: "no listener uses an outdated TLS policy (Trivy's deny-list)",
    check: (json) =>
      all(json, "aws_lb_listener")
        .filter(([, listener]) => OUTDATED_TLS_POLICIES.includes(String(listener.ssl_policy)))
        .map(([address, listener]) => ({ resource: address, detail: `ssl_policy ${String(listener.ssl_policy)}` })),
  },
  {
    id: "CKV_AWS_131",
    title: "an application load balancer drops invalid HTTP header fields",
    check: (json) => all(json, "aws_lb").flatMap(([address, lb]) => unless(address, lb.drop_invalid_header_fields === true, "drop_invalid_header_fields is not true")),
  },
  {
    id: "CKV_AWS_91",
    title: "a load balancer writes access logs",
    check: (json) => all(json, "aws_lb").flatMap(([address, lb]) => unless(address, (lb.access_logs as { enabled?: boolean } | undefined)?.enabled === true, "access logs are off")),
  },
  {
    id: "CKV_AWS_150",
    title: "a load balancer has deletion protection",
    check: (json) => all(json, "aws_lb").flatMap(([address, lb]) => unless(address, lb.enable_deletion_protection === true, "enable_deletion_protection is not true")),
  },
  {
    id: "CKV_AWS_29",
    title: "an ElastiCache replication group is encrypted at rest",
    check: (json) => all(json, "aws_elasticache_replication_group").flatMap(([address, group]) => unless(address, String(group.at_rest_encryption_enabled) === "true", "at-rest encryption is off")),
  },
  {
    id: "CKV_AWS_30",
    title: "an ElastiCache replication group is encrypted in transit",
    check: (json) => all(json, "aws_elasticache_replication_group").flatMap(([address, group]) => unless(address, group.transit_encryption_enabled === true, "in-transit encryption is off")),
  },
  {
    id: "CKV_AWS_31",
    title: "an ElastiCache replication group is encrypted in transit and authenticates clients (an AUTH token or RBAC user groups)",
    check: (json) =>
      all(json, "aws_elasticache_replication_group").flatMap(([address, group]) =>
        unless(address, group.transit_encryption_enabled === true && (Boolean(group.auth_token) || ((group.user_group_ids as unknown[] | undefined) ?? []).length > 0), "no auth_token and no user group"),
      ),
  },
  {
    id: "CKV_AWS_191",
    title: "an ElastiCache replication group is encrypted with a customer-managed KMS key",
    check: (json) => all(json, "aws_elasticache_replication_group").flatMap(([address, group]) => unless(address, Boolean(group.kms_key_id), "encrypted with the AWS-owned key")),
  },
  {
    id: "CKV2_AWS_50",
    title: "an ElastiCache replication group fails over automatically",
    check: (json) => all(json, "aws_elasticache_replication_group").flatMap(([address, group]) => unless(address, group.automatic_failover_enabled === true, "automatic failover is off")),
  },
  {
    id: "CKV_AWS_7",
    title: "a KMS key rotates",
    check: (json) => all(json, "aws_kms_key").flatMap(([address, key]) => unless(address, key.enable_key_rotation === true, "enable_key_rotation is not true")),
  },
  {
    id: "CKV_AWS_26",
    title: "an SNS topic is encrypted",
    check: (json) => all(json, "aws_sns_topic").flatMap(([address, topic]) => unless(address, Boolean(topic.kms_master_key_id), "no kms_master_key_id")),
  },
  {
    id: "CKV2_AWS_6",
    title: "an S3 bucket blocks public access",
    check: (json) => {
      const blocked = all(json, "aws_s3_bucket_public_access_block").filter(([, b]) => [b.block_public_acls, b.block_public_policy, b.ignore_public_acls, b.restrict_public_buckets].every((v) => v === true)).map(([, b]) => b.bucket);
      return all(json, "aws_s3_bucket").flatMap(([address]) => unless(address, blocked.includes(ref(address, "id")), "no full public access block"));
    },
  },
  {
    id: "CKV_AWS_145",
    title: "an S3 bucket is encrypted with KMS by default",
    check: (json) => {
      const kms = all(json, "aws_s3_bucket_server_side_encryption_configuration")
        .filter(([, c]) => ((c.rule ?? []) as { apply_server_side_encryption_by_default?: { sse_algorithm?: string } }[]).some((r) => r.apply_server_side_encryption_by_default?.sse_algorithm?.startsWith("aws:kms")))
        .map(([, c]) => c.bucket);
      return all(json, "aws_s3_bucket").flatMap(([address]) => unless(address, kms.includes(ref(address, "id")), "not SSE-KMS"));
    },
  },
  {
    id: "CKV2_AWS_11",
    title: "a VPC has flow logs",
    check: (json) => {
      const logged = all(json, "aws_flow_log").map(([, f]) => f.vpc_id);
      return all(json, "aws_vpc").flatMap(([address]) => unless(address, logged.includes(ref(address, "id")), "no aws_flow_log"));
    },
  },
  {
    id: "CKV2_AWS_12",
    title: "a VPC's default security group admits and sends nothing",
    check: (json) => {
      const restricted = all(json, "aws_default_security_group").filter(([, g]) => !(g.ingress as unknown[] | undefined)?.length && !(g.egress as unknown[] | undefined)?.length).map(([, g]) => g.vpc_id);
      return all(json, "aws_vpc").flatMap(([address]) => unless(address, restricted.includes(ref(address, "id")), "its default security group is not emptied"));
    },
  },
  {
    id: "CKV_AWS_23",
    title: "every security group and security group rule has a description",
    check: (json) =>
      ["aws_security_group", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"].flatMap((type) =>
        all(json, type).flatMap(([address, item]) => unless(address, typeof item.description === "string" && item.description.length > 0, "no description")),
      ),
  },
  {
    id: "CKV_AWS_260",
    title: "no security group admits the whole internet on port 80",
    check: (json) =>
      all(json, "aws_vpc_security_group_ingress_rule")
        .filter(([, rule]) => rule.cidr_ipv4 === "0.0.0.0/0" || rule.cidr_ipv6 === "::/0")
        .flatMap(([address, rule]) => unless(address, !(Number(rule.from_port) <= 80 && Number(rule.to_port) >= 80), "port 80 open to the internet")),
  },
  {
    id: "CKV_AWS_49",
    title: 'no IAM policy document (aws_iam_policy_document) allows "*" as an action',
    check: (json) =>
      Object.entries(json.data?.aws_iam_policy_document ?? {}).flatMap(([id, doc]) =>
        ((doc.statement ?? []) as { effect?: string; actions?: string[] }[])
          .filter((s) => (s.effect ?? "Allow") === "Allow" && (s.actions ?? []).includes("*"))
          .map(() => ({ resource: `data.aws_iam_policy_document.${id}`, detail: 'allows "*"' })),
      ),
  },
];
