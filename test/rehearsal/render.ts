import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Where the rehearsal's stacks live: the AWS partition, region and account from config. */
export interface Account {
  readonly partition: string;
  readonly region: string;
  readonly accountId: string;
}

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: Record<string, unknown>[];
}

export interface StackResource {
  /** "aws_lb.load-balancer_alb_15AADC07" */
  readonly address: string;
  readonly type: string;
  /** The resource's configuration with every reference replaced by the value AWS will give it. */
  readonly config: Record<string, unknown>;
}

type Json = Record<string, unknown>;

const SYNTH_DIR = join(__dirname, "..", "..", "cdktf.out", "stacks");
const REFERENCE = /\$\{((?:data\.)?aws_[a-z0-9_]+\.[^.}]+\.[a-z0-9_]+)\}/g;
const WHOLE_REFERENCE = /^\$\{((?:data\.)?aws_[a-z0-9_]+\.[^.}]+\.[a-z0-9_]+)\}$/;

/** A deterministic stand-in for an id AWS generates, so ARNs are stable between runs. */
export function generatedId(seed: string, length = 17): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

const EC2_ID_PREFIX: Record<string, string> = {
  aws_vpc: "vpc",
  aws_subnet: "subnet",
  aws_route_table: "rtb",
  aws_route_table_association: "rtbassoc",
  aws_internet_gateway: "igw",
  aws_eip: "eipalloc",
  aws_nat_gateway: "nat",
  aws_security_group: "sg",
  aws_default_security_group: "sg",
  aws_vpc_security_group_ingress_rule: "sgr",
  aws_vpc_security_group_egress_rule: "sgr",
  aws_vpc_endpoint: "vpce",
  aws_flow_log: "fl",
};

const EC2_ARN_TYPE: Record<string, string> = {
  aws_vpc: "vpc",
  aws_subnet: "subnet",
  aws_route_table: "route-table",
  aws_internet_gateway: "internet-gateway",
  aws_eip: "elastic-ip",
  aws_nat_gateway: "natgateway",
  aws_security_group: "security-group",
  aws_default_security_group: "security-group",
  aws_vpc_security_group_ingress_rule: "security-group-rule",
  aws_vpc_security_group_egress_rule: "security-group-rule",
  aws_vpc_endpoint: "vpc-endpoint",
  aws_flow_log: "vpc-flow-log",
};

/**
 * One synthesized stack (`cdktf.out/stacks/<name>/cdk.tf.json`) with every reference rendered: a
 * resource's ARN from the name the stack gives it, and a fixed placeholder for ids AWS generates.
 * Every `aws_iam_policy_document` renders to the JSON Terraform would compute.
 */
export class RenderedStack {
  readonly json: Json;
  private readonly raw = new Map<string, { type: string; config: Json }>();
  private readonly rendering = new Set<string>();

  constructor(
    readonly name: string,
    readonly account: Account,
    /** The synth output's stacks folder. @default cdktf.out/stacks */
    stacksDir = SYNTH_DIR,
  ) {
    this.json = JSON.parse(readFileSync(join(stacksDir, name, "cdk.tf.json"), "utf8")) as Json;
    for (const [prefix, block] of [["", this.json.resource], ["data.", this.json.data]] as const) {
      for (const [type, byName] of Object.entries((block ?? {}) as Record<string, Record<string, Json>>)) {
        for (const [name, config] of Object.entries(byName)) this.raw.set(`${prefix}${type}.${name}`, { type, config });
      }
    }
  }

  /** Default tags of the stack's (first) AWS provider: every taggable resource gets them. */
  get defaultTags(): Record<string, string> {
    const providers = (this.json.provider as { aws?: Json[] } | undefined)?.aws ?? [];
    const tags = (providers[0]?.default_tags as { tags?: Record<string, string> }[] | undefined)?.[0]?.tags;
    return tags ?? {};
  }

  private rendered?: StackResource[];

  /** Every resource of the stack, rendered once. */
  resources(): StackResource[] {
    this.rendered ??= [...this.raw].filter(([address]) => !address.startsWith("data.")).map(([address, { type }]) => ({ address, type, config: this.config(address) }));
    return this.rendered;
  }

  /** The configuration with metadata dropped and references rendered. */
  config(address: string): Json {
    const entry = this.raw.get(address);
    if (!entry) throw new Error(`${this.name}: no resource ${address}`);
    const { "//": _metadata, ...config } = entry.config;
    return this.render(config) as Json;
  }

  /**
   * What an argument names, as ARNs: walks a dotted path through the raw configuration (lists
   * are walked), and turns each `${aws_x.y.attr}` into the ARN of aws_x.y. Literal ARNs stay.
   */
  targetsAt(address: string, path: string): { arn: string; address?: string }[] {
    const entry = this.raw.get(address);
    if (!entry) throw new Error(`${this.name}: no resource ${address}`);
    let values: unknown[] = [entry.config];
    for (const key of path.split(".")) {
      values = values.flatMap((v) => (Array.isArray(v) ? v : [v])).flatMap((v) => (v && typeof v === "object" && key in v ? [(v as Json)[key]] : []));
    }
    return values
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .filter((v) => v !== undefined && v !== null && v !== "")
      .map((v) => {
        const whole = typeof v === "string" ? WHOLE_REFERENCE.exec(v) : null;
        if (whole) {
          const target = whole[1].slice(0, whole[1].lastIndexOf("."));
          return { arn: this.arn(target), address: target };
        }
        return { arn: String(this.render(v)) };
      });
  }

  /** Whether a dotted path is set in the raw configuration. */
  isSet(address: string, path: string): boolean {
    try {
      return this.targetsAt(address, path).length > 0;
    } catch {
      return false;
    }
  }

  /** The tags a resource carries once created: the provider's default tags and its own. */
  tagsOf(address: string): Record<string, string> {
    const own = (this.raw.get(address)?.config.tags ?? {}) as Record<string, string>;
    return { ...this.defaultTags, ...own };
  }

  /** A rendered `aws_iam_policy_document`, or a policy JSON string any resource argument holds. */
  policy(value: unknown): PolicyDocument {
    const rendered = typeof value === "string" ? this.render(value) : value;
    return (typeof rendered === "string" ? JSON.parse(rendered) : rendered) as PolicyDocument;
  }

  /** Replaces every `${aws_x.y.attr}` in a value, deeply. */
  render(value: unknown): unknown {
    if (typeof value === "string") {
      const whole = WHOLE_REFERENCE.exec(value);
      if (whole) return this.attribute(whole[1]);
      return value.replace(REFERENCE, (_, reference: string) => String(this.attribute(reference)));
    }
    if (Array.isArray(value)) return value.map((v) => this.render(v));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.render(v)]));
    return value;
  }

  /** "aws_lb.x.arn" -> the value AWS gives that attribute. */
  attribute(reference: string): unknown {
    const at = reference.lastIndexOf(".");
    const address = reference.slice(0, at);
    const attr = reference.slice(at + 1);
    const entry = this.raw.get(address);
    if (!entry) throw new Error(`${this.name}: reference to ${reference}, which the stack does not declare`);
    if (this.rendering.has(reference)) throw new Error(`${this.name}: ${reference} refers to itself`);
    this.rendering.add(reference);
    try {
      return this.computeAttribute(address, entry.type, entry.config, attr);
    } finally {
      this.rendering.delete(reference);
    }
  }

  /** The resource's ARN, as AWS will form it. */
  arn(address: string): string {
    return String(this.attribute(`${address}.arn`));
  }

  private computeAttribute(address: string, type: string, raw: Json, attr: string): unknown {
    if (type === "aws_iam_policy_document") {
      if (attr === "json" || attr === "minified_json") return JSON.stringify(this.policyDocument(raw));
      throw new Error(`${address}.${attr}: only json is rendered`);
    }
    const config = (key: string) => this.render(raw[key]);
    if (attr === "arn") return this.arnOf(address, type, raw);
    if (attr === "arn_suffix") return this.arnOf(address, type, raw).split(":").slice(5).join(":").replace(/^loadbalancer\//, "");
    if (attr === "name" || attr === "family") return this.nameOf(address, raw) ?? config(attr);
    if (attr === "id") return this.idOf(address, type, raw);
    if (attr === "key_id") return uuidOf(address);
    if (attr === "allocation_id") return `eipalloc-${generatedId(address)}`;
    if (attr === "dns_name") return `${this.nameOf(address, raw)}-${generatedId(address, 10)}.${this.account.region}.elb.amazonaws.com`;
    if (attr === "repository_url") return `${this.account.accountId}.dkr.ecr.${this.account.region}.amazonaws.com/${config("name")}`;
    if (attr === "primary_endpoint_address") return `master.${config("replication_group_id")}.${generatedId(address, 6)}.euw1.cache.amazonaws.com`;
    if (attr in raw) return config(attr);
    // Attributes AWS computes that no policy decision depends on.
    return `${attr}-${generatedId(address, 8)}`;
  }

  private nameOf(address: string, raw: Json): string | undefined {
    const name = raw.name ?? raw.family ?? raw.bucket ?? raw.alarm_name ?? raw.dashboard_name ?? raw.replication_group_id ?? raw.policy_name ?? raw.user_group_id ?? raw.user_id;
    if (name !== undefined) return String(this.render(name));
    if (raw.name_prefix !== undefined) return `${this.render(raw.name_prefix)}${generatedId(address, 26)}`;
    if (raw.bucket_prefix !== undefined) return `${this.render(raw.bucket_prefix)}${generatedId(address, 26)}`;
    return undefined;
  }

  private idOf(address: string, type: string, raw: Json): string {
    const ec2 = EC2_ID_PREFIX[type];
    if (ec2) return `${ec2}-${generatedId(address)}`;
    switch (type) {
      case "aws_iam_role":
      case "aws_s3_bucket":
      case "aws_cloudwatch_log_group":
      case "aws_elasticache_subnet_group":
      case "aws_elasticache_parameter_group":
      case "aws_elasticache_replication_group":
      case "aws_elasticache_user":
      case "aws_elasticache_user_group":
      case "aws_ecr_repository":
        return this.nameOf(address, raw) ?? address;
      case "aws_kms_key":
        return uuidOf(address);
      case "aws_appautoscaling_target":
        return String(this.render(raw.resource_id));
      default:
        return this.arnOf(address, type, raw);
    }
  }

  private arnOf(address: string, type: string, raw: Json): string {
    const { partition: p, region: r, accountId: a } = this.account;
    const ref = (key: string) => String(this.render(raw[key]));
    const name = () => this.nameOf(address, raw) ?? address;
    const ec2 = EC2_ARN_TYPE[type];
    if (ec2) return `arn:${p}:ec2:${r}:${a}:${ec2}/${type === "aws_eip" ? this.attribute(`${address}.allocation_id`) : this.idOf(address, type, raw)}`;
    switch (type) {
      case "aws_lb":
        return `arn:${p}:elasticloadbalancing:${r}:${a}:loadbalancer/app/${name()}/${generatedId(address, 16)}`;
      case "aws_lb_target_group":
        return `arn:${p}:elasticloadbalancing:${r}:${a}:targetgroup/${name()}/${generatedId(address, 16)}`;
      case "aws_lb_listener":
        return `${ref("load_balancer_arn").replace(":loadbalancer/", ":listener/")}/${generatedId(address, 16)}`;
      case "aws_ecs_cluster":
        return `arn:${p}:ecs:${r}:${a}:cluster/${name()}`;
      case "aws_ecs_cluster_capacity_providers":
        return `arn:${p}:ecs:${r}:${a}:cluster/${ref("cluster_name")}`;
      case "aws_ecs_service":
        return `arn:${p}:ecs:${r}:${a}:service/${ref("cluster").split("/").pop()}/${name()}`;
      case "aws_ecs_task_definition":
        return `arn:${p}:ecs:${r}:${a}:task-definition/${ref("family")}:1`;
      case "aws_appautoscaling_target":
        return `arn:${p}:application-autoscaling:${r}:${a}:scalable-target/${generatedId(address, 28)}`;
      case "aws_appautoscaling_policy":
        return `arn:${p}:autoscaling:${r}:${a}:scalingPolicy:${uuidOf(address)}:resource/${ref("service_namespace")}/${ref("resource_id")}:policyName/${name()}`;
      case "aws_elasticache_replication_group":
        return `arn:${p}:elasticache:${r}:${a}:replicationgroup:${name()}`;
      case "aws_elasticache_subnet_group":
        return `arn:${p}:elasticache:${r}:${a}:subnetgroup:${name()}`;
      case "aws_elasticache_parameter_group":
        return `arn:${p}:elasticache:${r}:${a}:parametergroup:${name()}`;
      case "aws_elasticache_user":
        return `arn:${p}:elasticache:${r}:${a}:user:${name()}`;
      case "aws_elasticache_user_group":
        return `arn:${p}:elasticache:${r}:${a}:usergroup:${name()}`;
      case "aws_cloudwatch_log_group":
        return `arn:${p}:logs:${r}:${a}:log-group:${name()}`;
      case "aws_cloudwatch_log_metric_filter":
        return `arn:${p}:logs:${r}:${a}:log-group:${ref("log_group_name")}`;
      case "aws_cloudwatch_metric_alarm":
      case "aws_cloudwatch_composite_alarm":
        return `arn:${p}:cloudwatch:${r}:${a}:alarm:${name()}`;
      case "aws_cloudwatch_dashboard":
        return `arn:${p}:cloudwatch::${a}:dashboard/${name()}`;
      case "aws_sns_topic":
        return `arn:${p}:sns:${r}:${a}:${name()}`;
      case "aws_sns_topic_policy":
        return ref("arn");
      case "aws_sns_topic_subscription":
        return `${ref("topic_arn")}:${uuidOf(address)}`;
      case "aws_iam_role":
        return `arn:${p}:iam::${a}:role${raw.path ? ref("path") : "/"}${name()}`;
      case "aws_iam_policy":
        return `arn:${p}:iam::${a}:policy${raw.path ? ref("path") : "/"}${name()}`;
      case "aws_iam_role_policy":
      case "aws_iam_role_policy_attachment":
        return `arn:${p}:iam::${a}:role/${ref("role")}`;
      case "aws_iam_openid_connect_provider":
        return `arn:${p}:iam::${a}:oidc-provider/${ref("url").replace(/^https:\/\//, "")}`;
      case "aws_kms_key":
        return `arn:${p}:kms:${r}:${a}:key/${uuidOf(address)}`;
      case "aws_kms_alias":
        return `arn:${p}:kms:${r}:${a}:${name()}`;
      case "aws_wafv2_web_acl":
        return `arn:${p}:wafv2:${r}:${a}:regional/webacl/${name()}/${uuidOf(address)}`;
      case "aws_secretsmanager_secret":
        return `arn:${p}:secretsmanager:${r}:${a}:secret:${name()}-${generatedId(address, 6)}`;
      case "aws_secretsmanager_secret_version":
        return ref("secret_id");
      case "aws_s3_bucket":
        return `arn:${p}:s3:::${name()}`;
      case "aws_ecr_repository":
        return `arn:${p}:ecr:${r}:${a}:repository/${name()}`;
      case "aws_ecr_lifecycle_policy":
        return `arn:${p}:ecr:${r}:${a}:repository/${ref("repository")}`;
      default:
        if (type.startsWith("aws_s3_bucket_")) return `arn:${p}:s3:::${ref("bucket")}`;
        throw new Error(`${this.name}: no ARN format for ${type} (${address}); add it to test/rehearsal/render.ts`);
    }
  }

  private policyDocument(raw: Json): PolicyDocument {
    const statements = (raw.statement ?? []) as Json[];
    return {
      Version: "2012-10-17",
      Statement: statements.map((s) => {
        const statement = this.render(s) as Json;
        const out: Json = { Effect: statement.effect ?? "Allow" };
        if (statement.sid) out.Sid = statement.sid;
        const principals = (key: string) => {
          const list = statement[key] as { type: string; identifiers: string[] }[] | undefined;
          if (!list) return undefined;
          if (list.some((x) => x.type === "*")) return "*";
          const merged: Record<string, string[]> = {};
          for (const { type, identifiers } of list) merged[type] = [...(merged[type] ?? []), ...identifiers];
          return merged;
        };
        for (const [from, to] of [["principals", "Principal"], ["not_principals", "NotPrincipal"]] as const) {
          const value = principals(from);
          if (value) out[to] = value;
        }
        for (const [from, to] of [["actions", "Action"], ["not_actions", "NotAction"], ["resources", "Resource"], ["not_resources", "NotResource"]] as const) {
          if (statement[from]) out[to] = statement[from];
        }
        const conditions = statement.condition as { test: string; variable: string; values: string[] }[] | undefined;
        if (conditions?.length) {
          const condition: Record<string, Record<string, string[]>> = {};
          for (const { test, variable, values } of conditions) condition[test] = { ...condition[test], [variable]: values };
          out.Condition = condition;
        }
        return out;
      }),
    };
  }
}

function uuidOf(seed: string): string {
  const h = generatedId(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
