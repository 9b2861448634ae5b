import { namePrefix } from "../config/names";
import { workloadBoundaryArn } from "../constructs/workload-permissions-boundary";
import { SECRET_LOOKING_NAME } from "../config/schema";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SCANNER_RULES } from "./posture/scanner-rules";
import { resourcesOf, synthStack, type TerraformJson } from "./support/fixtures";

// Security posture of what each environment synthesizes, checked on the Terraform JSON itself.
describe.each(["staging", "production"] as const)("security posture of %s", (name) => {
  const json: TerraformJson = synthStack(name);
  const all = (type: string) => Object.entries(resourcesOf(json, type));

  it("encrypts Redis at rest and in transit, and admits IAM-authenticated users only", () => {
    for (const [, group] of all("aws_elasticache_replication_group")) {
      expect(group).toMatchObject({ at_rest_encryption_enabled: "true", transit_encryption_enabled: true, transit_encryption_mode: "required" });
      expect(group.auth_token).toBeUndefined();
      expect(group.user_group_ids).toHaveLength(1);
    }
    // Everyone but the switched-off default user signs in with IAM: no password exists to leak.
    for (const [, user] of all("aws_elasticache_user")) {
      if (user.user_name === "default") expect(user.access_string).toBe("off -@all");
      else expect(user.authentication_mode).toEqual({ type: "iam" });
    }
  });

  it("encrypts every S3 bucket", () => {
    const buckets = all("aws_s3_bucket").map(([id]) => id);
    const encrypted = all("aws_s3_bucket_server_side_encryption_configuration").map(([, c]) => String(c.bucket));
    expect(buckets.length).toBeGreaterThan(0);
    for (const id of buckets) expect(encrypted).toContain(`\${aws_s3_bucket.${id}.id}`);
  });

  it("admits the internet only to the load balancer's 80 and 443", () => {
    const albGroups = all("aws_security_group")
      .filter(([, sg]) => String(sg.name).endsWith("-alb"))
      .map(([id]) => `\${aws_security_group.${id}.id}`);
    const open = all("aws_vpc_security_group_ingress_rule").filter(([, rule]) => rule.cidr_ipv4 === "0.0.0.0/0" || rule.cidr_ipv6 === "::/0");
    expect(open.length).toBeGreaterThan(0);
    for (const [, rule] of open) {
      expect(albGroups).toContain(rule.security_group_id);
      expect([80, 443]).toContain(rule.from_port);
      expect(rule.to_port).toBe(rule.from_port);
    }
    for (const [, sg] of all("aws_security_group")) expect(sg.ingress).toBeUndefined();
  });

  it("grants no wildcard IAM actions", () => {
    const statements = Object.values(json.data?.aws_iam_policy_document ?? {}).flatMap((doc) => doc.statement as Record<string, unknown>[]);
    const allows = statements.filter((s) => (s.effect ?? "Allow") === "Allow");
    expect(allows.length).toBeGreaterThan(0);
    for (const statement of allows) {
      for (const action of (statement.actions as string[] | undefined) ?? []) expect(action).not.toMatch(/\*/);
    }
  });

  it("puts the environment's workload boundary, made by the bootstrap stack, on every IAM role", () => {
    const [provider] = json.provider.aws;
    const [account] = provider.allowed_account_ids as string[];
    const roles = all("aws_iam_role");
    expect(roles.length).toBeGreaterThan(0);
    for (const [, role] of roles) expect([role.name, role.permissions_boundary]).toEqual([role.name, workloadBoundaryArn(provider.region as string, account, namePrefix(name))]);
  });

  it("keeps secrets out of container environment variables", () => {
    for (const [, task] of all("aws_ecs_task_definition")) {
      for (const container of JSON.parse(String(task.container_definitions)) as { environment?: { name: string; value: string }[]; secrets?: { name: string }[] }[]) {
        for (const variable of container.environment ?? []) expect(variable.name).not.toMatch(SECRET_LOOKING_NAME);
        for (const secret of container.secrets ?? []) expect(secret.name).toMatch(SECRET_LOOKING_NAME);
      }
    }
  });

  it("outputs nothing secret", () => {
    for (const [outputName, output] of Object.entries(json.output ?? {})) {
      expect(outputName).not.toMatch(SECRET_LOOKING_NAME);
      expect(JSON.stringify(output.value)).not.toMatch(/secret|auth_token/);
    }
  });

  it("keeps state in S3 with S3-native locking, encrypted by the bucket's KMS default (not the backend's SSE-S3)", () => {
    const backend = json.terraform.backend.s3;
    expect(backend).toMatchObject({ use_lockfile: true, key: `mcp-deploy/${name}.tfstate` });
    // `encrypt` without `kms_key_id` would send AES256 and override the bucket's SSE-KMS default.
    expect(backend.encrypt === true && backend.kms_key_id === undefined).toBe(false);
  });

  it("tags every resource through the provider's default tags and pins the account", () => {
    const [provider] = json.provider.aws;
    expect((provider.default_tags as { tags: Record<string, string> }[])[0].tags).toEqual({
      project: "mcp-deploy",
      environment: name,
      "managed-by": "cdktf",
      repository: "example-org/mcp-deploy",
    });
    expect(provider.allowed_account_ids).toHaveLength(1);
  });

  it("runs no task with a public IP and gives every service a circuit breaker with rollback", () => {
    for (const [, service] of all("aws_ecs_service")) {
      expect(service.network_configuration).toMatchObject({ assign_public_ip: false });
      expect(service.deployment_circuit_breaker).toEqual({ enable: true, rollback: true });
    }
  });
});

/** A finding a stack keeps on purpose: which rule, where, and why (security/accepted-findings.json). */
interface AcceptedFinding {
  rule: string;
  environments: string[];
  resource: string;
  reason: string;
}
const ROOT = join(__dirname, "..");
const accepted = JSON.parse(readFileSync(join(ROOT, "security", "accepted-findings.json"), "utf8")) as AcceptedFinding[];

// Checkov's and Trivy's rules that matter here, mirrored on each stack: a finding fails the test
// unless the allow-list names it with a reason, and an allow-list entry that no longer matches fails too.
describe.each(["staging", "production"] as const)("scanner rules on %s", (name) => {
  const json: TerraformJson = synthStack(name);
  const findings = SCANNER_RULES.map((rule) => ({ rule, findings: rule.check(json) }));
  const acceptedHere = accepted.filter((a) => a.environments.includes(name));
  const isAccepted = (rule: string, resource: string) => acceptedHere.some((a) => a.rule === rule && new RegExp(a.resource).test(resource));

  it.each(findings.map(({ rule, findings: found }) => [`${rule.id}: ${rule.title}`, rule.id, found] as const))("%s", (_title, id, found) => {
    expect(found.filter((f) => !isAccepted(id, f.resource)).map((f) => `${f.resource}: ${f.detail}`)).toEqual([]);
  });

  it("accepts only findings that exist: every allow-list entry still matches one", () => {
    const stale = acceptedHere.filter((a) => !findings.some(({ rule, findings: found }) => rule.id === a.rule && found.some((f) => new RegExp(a.resource).test(f.resource))));
    expect(stale.map((a) => `${a.rule} ${a.resource}`)).toEqual([]);
  });
});

describe("the allow-list of accepted findings", () => {
  it("names known rules and environments, gives each a reason, and is in the README's Security section", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const security = readme.slice(readme.indexOf("## Security"));
    for (const entry of accepted) {
      expect({ rule: entry.rule, known: SCANNER_RULES.some((r) => r.id === entry.rule) }).toEqual({ rule: entry.rule, known: true });
      expect(entry.environments.every((e) => ["staging", "production"].includes(e))).toBe(true);
      expect(entry.reason.length).toBeGreaterThan(60);
      expect({ rule: entry.rule, inReadme: security.includes(entry.rule) }).toEqual({ rule: entry.rule, inReadme: true });
    }
  });
});
