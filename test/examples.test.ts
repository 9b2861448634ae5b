import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { resourcesOf, type TerraformJson } from "./support/fixtures";
import { COMMAND_TIMEOUT_MS } from "./support/processes";
import { OfflineWorkdir } from "./support/terraform";

/*
 * Each app in examples/ as its user runs it: bundled (with `mcp-deploy` resolved to this
 * repository's index, as an installed copy would be), synthesized, then validated and planned by
 * real Terraform with no AWS account.
 */
const ROOT = path.resolve(__dirname, "..");
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mcp-deploy-examples-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

function synthesize(example: string): TerraformJson {
  const outdir = fs.mkdtempSync(path.join(scratch, `${example}-`));
  // Inside the repository, so that the bundle's external packages resolve from its node_modules.
  const bundle = path.join(ROOT, "dist", "examples", example, "main.js");
  buildSync({ entryPoints: [path.join(ROOT, "examples", example, "main.ts")], bundle: true, platform: "node", outfile: bundle, alias: { "mcp-deploy": path.join(ROOT, "index.ts") }, packages: "external", logLevel: "error" });
  const run = spawnSync(process.execPath, ["--disable-warning=DEP0044", bundle], { cwd: ROOT, env: { ...process.env, CDKTF_OUTDIR: path.join(outdir, "out") }, encoding: "utf8", timeout: COMMAND_TIMEOUT_MS });
  if (run.status !== 0) throw new Error(`examples/${example} failed:\n${run.stdout}${run.stderr}`);
  const [stack] = fs.readdirSync(path.join(outdir, "out", "stacks"));
  return JSON.parse(fs.readFileSync(path.join(outdir, "out", "stacks", stack, "cdk.tf.json"), "utf8"));
}

function plansOffline(json: TerraformJson): void {
  const workdir = new OfflineWorkdir(json);
  try {
    expect(workdir.run("init", "-input=false").code).toBe(0);
    const plan = workdir.run("plan", "-input=false", "-lock=false", "-detailed-exitcode");
    expect({ code: plan.code, errors: plan.output.match(/Error: .*/g) ?? [] }).toEqual({ code: 2, errors: [] });
  } finally {
    workdir.remove();
  }
}

const containerOf = (json: TerraformJson) =>
  JSON.parse(String((Object.values(resourcesOf(json, "aws_ecs_task_definition"))[0] as { container_definitions: string }).container_definitions))[0] as {
    healthCheck: { command: string[] };
    mountPoints: { containerPath: string }[];
    environment: { name: string }[];
  };

describe("examples/", () => {
  it("minimal: an existing VPC and an HTTP-only load balancer; builds no network of its own", () => {
    const json = synthesize("minimal");
    expect(resourcesOf(json, "aws_vpc")).toEqual({});
    expect(resourcesOf(json, "aws_nat_gateway")).toEqual({});
    expect(Object.values(resourcesOf(json, "aws_lb")).map((lb) => [lb.internal, lb.subnets])).toEqual([[false, ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]]]);
    expect(Object.values(resourcesOf(json, "aws_lb_listener")).map((l) => l.protocol)).toEqual(["HTTP", "HTTP"]);
    plansOffline(json);
  }, 180_000);

  it("internal: an internal load balancer in the private subnets, open to the corporate ranges, its test listener also to the VPC's own verify tasks", () => {
    const json = synthesize("internal");
    expect(Object.values(resourcesOf(json, "aws_lb")).map((lb) => lb.internal)).toEqual([true]);
    const ingress = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule"))
      .filter((r) => String(r.security_group_id).includes("load-balancer"))
      .map((r) => r.cidr_ipv4);
    expect(ingress).not.toContain("0.0.0.0/0");
    expect(new Set(ingress)).toEqual(new Set(["10.0.0.0/8", "172.16.0.0/12", "10.50.0.0/16"]));
    plansOffline(json);
  }, 180_000);

  it("own-image: no Redis, its own health check, ARM64, and writable paths for it and ECS Exec", () => {
    const json = synthesize("own-image");
    expect(Object.keys(json.resource).filter((type) => type.startsWith("aws_elasticache"))).toEqual([]);
    const container = containerOf(json);
    expect(container.healthCheck.command).toEqual(["CMD", "/server", "healthcheck"]);
    expect(container.mountPoints.map((m) => m.containerPath)).toEqual(["/tmp", "/var/cache/server", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"]);
    expect(container.environment.map((e) => e.name)).not.toContain("REDIS_URL");
    const task = Object.values(resourcesOf(json, "aws_ecs_task_definition"))[0] as { runtime_platform: { cpu_architecture: string } };
    expect(task.runtime_platform.cpu_architecture).toBe("ARM64");
    plansOffline(json);
  }, 180_000);
});
