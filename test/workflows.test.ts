import * as fs from "node:fs";
import * as path from "node:path";
import Ajv from "ajv";
import { parseDocument } from "yaml";
import { listEnvironments } from "../config/load";

// The GitHub Actions workflows, checked as far as they can be without GitHub: they parse, they
// match GitHub's workflow schema, they call only scripts that exist, and they keep the release
// rules (pinned actions, declared permissions, one release at a time per environment).
const root = path.resolve(__dirname, "..");
const workflowDir = path.join(root, ".github", "workflows");
const workflowFiles = fs.readdirSync(workflowDir).filter((f) => /\.ya?ml$/.test(f)).sort();
const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")).scripts as Record<string, string>);

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  environment?: string | { name: string };
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  permissions?: Record<string, string> | string;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string> | string;
  jobs: Record<string, Job>;
}

const text = (file: string) => fs.readFileSync(path.join(workflowDir, file), "utf8");
const load = (file: string) => parseDocument(text(file));
const workflow = (file: string) => load(file).toJS() as Workflow;
const environmentOf = (job: Job) => (typeof job.environment === "string" ? job.environment : job.environment?.name);

/** The official actions the release process is built on, and nothing else. */
const ALLOWED_ACTIONS = [
  "actions/checkout",
  "actions/setup-node",
  "hashicorp/setup-terraform",
  "aws-actions/configure-aws-credentials",
  "aws-actions/amazon-ecr-login",
  "docker/setup-buildx-action",
  "docker/build-push-action",
  "actions/upload-artifact",
];

// SchemaStore's schemas are written for every validator, not for Ajv's strict mode.
const validateWorkflow = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "github-workflow.schema.json"), "utf8")));

describe("the GitHub workflows", () => {
  it("are deploy.yml, drift.yml and pr.yml", () => {
    expect(workflowFiles).toEqual(["deploy.yml", "drift.yml", "pr.yml"]);
  });

  describe("pr.yml, beyond the plan", () => {
    const pr = workflow("pr.yml");

    it("refuses a pull request that edits a release manifest", () => {
      const guard = pr.jobs["release-manifests"]!;
      expect(guard.steps.some((s) => s.run?.includes("git diff --name-only \"$BASE\"...HEAD -- config/releases/") && s.run.includes("exit 1"))).toBe(true);
    });

    it("keeps each saved plan as an artifact and posts it as one sticky comment per environment", () => {
      const plan = pr.jobs.plan!;
      expect(plan.permissions).toMatchObject({ "pull-requests": "write" });
      expect(plan.steps.find((s) => s.uses?.startsWith("actions/upload-artifact@"))?.with).toMatchObject({ name: "plan-${{ matrix.environment }}", path: "cdktf.out/stacks/${{ matrix.environment }}/plan.tfplan" });
      const comment = plan.steps.find((s) => s.run?.includes("mcp-deploy plan:"))!.run!;
      expect(comment).toMatch(/--method PATCH/);
      expect(comment).toMatch(/--method POST/);
    });
  });

  describe("drift.yml", () => {
    const drift = workflow("drift.yml");

    it("plans every environment daily with its plan role, refreshing, without the lock, failing on any change", () => {
      expect(Object.keys(drift.on as object).sort()).toEqual(["schedule", "workflow_dispatch"]);
      const job = drift.jobs.drift as Job & { strategy: { matrix: { include: { environment: string; plan_role_variable: string }[] } } };
      expect(job.strategy.matrix.include.map((m) => m.environment).sort()).toEqual(listEnvironments().sort());
      expect(job.strategy.matrix.include.every((m) => m.plan_role_variable === `AWS_PLAN_ROLE_ARN_${m.environment.toUpperCase()}`)).toBe(true);
      const plan = job.steps.find((s) => s.run?.includes("npm run diff"))!.run!;
      expect(plan).toContain('npm run diff -- "$ENVIRONMENT" --no-lock --detailed-exitcode');
      expect(plan).not.toContain("--no-refresh");
      expect(plan).toMatch(/exit "\$code"/);
    });
  });

  describe.each(workflowFiles)("%s", (file) => {
    it("parses as YAML without errors or warnings", () => {
      const document = load(file);
      expect(document.errors.map((e) => e.message)).toEqual([]);
      expect(document.warnings.map((w) => w.message)).toEqual([]);
    });

    it("validates against GitHub's workflow schema", () => {
      validateWorkflow(workflow(file));
      expect(validateWorkflow.errors ?? []).toEqual([]);
    });

    it("calls only npm scripts that package.json defines", () => {
      const runs = Object.values(workflow(file).jobs).flatMap((job) => job.steps.map((step) => step.run ?? ""));
      const called = runs.flatMap((run) => [...run.matchAll(/\bnpm run(?:\s+--?[\w-]+)*\s+([\w:.-]+)/g)].map((m) => m[1]));
      expect(called.length).toBeGreaterThan(0);
      expect(called.filter((script) => !scripts.includes(script))).toEqual([]);
    });

    it("installs the server's own dependencies wherever it runs npm test, which runs the server's tests", () => {
      for (const job of Object.values(workflow(file).jobs)) {
        const runs = job.steps.map((step) => step.run ?? "");
        const testAt = runs.findIndex((run) => /\bnpm test\b/.test(run));
        if (testAt >= 0) expect(runs.slice(0, testAt).some((run) => /npm ci --prefix server\b/.test(run))).toBe(true);
      }
    });

    it("pins every action to a full commit SHA with its version beside it, or to an exact version", () => {
      const lines = text(file).split("\n").filter((line) => /^\s*(-\s+)?uses:/.test(line));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+(\/[\w./-]+)?@([0-9a-f]{40} # v\d+\.\d+\.\d+|v\d+\.\d+\.\d+)$/);
        expect(ALLOWED_ACTIONS).toContain(/uses: ([\w.-]+\/[\w.-]+)/.exec(line)![1]);
      }
    });

    it("pins each action to the same commit wherever it is used", () => {
      const pins = new Map<string, Set<string>>();
      for (const [, action, ref] of text(file).matchAll(/uses: ([\w.-]+\/[\w.-]+)@(\S+)/g)) pins.set(action, new Set([...(pins.get(action) ?? []), ref]));
      for (const [action, refs] of pins) expect([action, [...refs]]).toEqual([action, [expect.any(String)]]);
    });

    it("declares read-only permissions for the workflow and explicit permissions for every job", () => {
      const { permissions, jobs } = workflow(file);
      expect(permissions).toEqual({ contents: "read" });
      for (const [name, job] of Object.entries(jobs)) {
        expect([name, typeof job.permissions]).toEqual([name, "object"]);
        const usesAws = job.steps.some((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"));
        expect([name, (job.permissions as Record<string, string>)["id-token"]]).toEqual([name, usesAws ? "write" : undefined]);
      }
    });

    it("gives the AWS deploy role of an environment only to jobs of that GitHub environment", () => {
      for (const [name, job] of Object.entries(workflow(file).jobs)) {
        for (const step of job.steps.filter((s) => s.uses?.startsWith("aws-actions/configure-aws-credentials@"))) {
          const role = String(step.with?.["role-to-assume"]);
          const deployRole = /vars\.AWS_DEPLOY_ROLE_ARN_(\w+)/.exec(role);
          if (deployRole) expect([name, environmentOf(job)]).toEqual([name, deployRole[1].toLowerCase()]);
          else expect([name, environmentOf(job)]).toEqual([name, undefined]);
        }
      }
    });

    it("runs each environment's release in its own concurrency group, never cancelling one in progress", () => {
      const jobs = Object.entries(workflow(file).jobs).filter(([, job]) => environmentOf(job));
      const groups = jobs.map(([, job]) => job.concurrency?.group);
      expect(new Set(groups).size).toBe(jobs.length);
      for (const [, job] of jobs) expect(job.concurrency).toEqual({ group: `release-${environmentOf(job)}`, "cancel-in-progress": false });
    });
  });

  describe("pr.yml", () => {
    const pr = workflow("pr.yml");

    it("runs on pull requests, tests, synthesizes and plans every environment", () => {
      expect(Object.keys(pr.on)).toEqual(["pull_request"]);
      const runs = Object.values(pr.jobs).flatMap((job) => job.steps.map((s) => s.run ?? ""));
      expect(runs).toEqual(expect.arrayContaining(["npm test", "npm run synth", 'npm run diff -- "$ENVIRONMENT" --no-refresh --no-lock']));
      const matrix = (pr.jobs.plan as Job & { strategy: { matrix: { include: { environment: string }[] } } }).strategy.matrix.include;
      expect(matrix.map((m) => m.environment).sort()).toEqual(listEnvironments());
    });

    it("uses only the read-only plan roles", () => {
      expect(text("pr.yml")).not.toMatch(/AWS_(DEPLOY|IMAGE)_ROLE/);
    });

    it("writes the plan to the job summary", () => {
      expect(text("pr.yml")).toMatch(/show -no-color plan\.tfplan[\s\S]*>> "\$GITHUB_STEP_SUMMARY"/);
    });
  });

  describe("deploy.yml", () => {
    const deploy = workflow("deploy.yml");
    const releaseRuns = (job: string) => deploy.jobs[job].steps.map((s) => s.run ?? "").filter((run) => run.includes("npm run"));

    it("runs on pushes to main, but not on the manifest commits a release pushes", () => {
      expect(deploy.on).toEqual({ push: { branches: ["main"], "paths-ignore": ["config/releases/**"] } });
    });

    it("releases to every environment, production last and behind its GitHub environment", () => {
      const environments = Object.values(deploy.jobs).map(environmentOf).filter(Boolean);
      expect([...environments].sort()).toEqual(listEnvironments());
      expect(environments[environments.length - 1]).toBe("production");
      expect(deploy.jobs.production).toMatchObject({ environment: "production", needs: expect.arrayContaining(["staging"]) });
    });

    it.each(["staging", "production"])("applies, deploys by digest, verifies, promotes and records the %s release", (environment) => {
      expect(releaseRuns(environment)).toEqual([
        'npm run deploy -- "$ENVIRONMENT"',
        'npm run release -- deploy --env "$ENVIRONMENT" --image "$IMAGE" --version "$GITHUB_SHA" --commit',
        'npm run release -- verify --env "$ENVIRONMENT"',
        'npm run release -- promote --env "$ENVIRONMENT" --commit',
      ]);
      const image = deploy.jobs[environment].steps.find((s) => s.run?.includes("echo \"image="))!.run!;
      expect(image).toContain("/mcp-server@$DIGEST");
      const push = deploy.jobs[environment].steps[deploy.jobs[environment].steps.length - 1] as Step & { if?: string };
      expect(push).toMatchObject({ if: "always()", run: expect.stringContaining("git push origin HEAD:main") });
    });

    it("builds the server image once, tagged with the commit, and hands its digest on", () => {
      const image = deploy.jobs.image as Job & { outputs: Record<string, string> };
      const build = image.steps.find((s) => s.uses?.startsWith("docker/build-push-action@"))!;
      expect(build.with).toMatchObject({ context: "server", file: "server/Dockerfile", push: true });
      expect(String(build.with!.tags).trim().split("\n")).toEqual(listEnvironments().sort().reverse().map((env) => `\${{ steps.registry-${env}.outputs.registry }}/mcp-server:\${{ github.sha }}`));
      expect(image.outputs.digest).toBe("${{ steps.existing.outputs.digest || steps.build.outputs.digest }}");
    });

    it("reuses the commit's image on a re-run instead of pushing a new digest under an immutable tag", () => {
      const steps = (deploy.jobs.image as Job).steps;
      const existing = steps.findIndex((s) => s.id === "existing");
      const build = steps.findIndex((s) => s.id === "build");
      expect(existing).toBeGreaterThan(steps.findIndex((s) => s.uses?.startsWith("docker/setup-buildx-action@")));
      expect(existing).toBeLessThan(build);
      expect(steps[build]).toMatchObject({ if: "steps.existing.outputs.digest == ''" });
      expect(steps[existing].run).toMatch(/imagetools inspect/);
      expect(steps[existing].run).toMatch(/different images in the two registries/);
    });
  });
});
