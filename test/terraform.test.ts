import { synthStack } from "./support/fixtures";
import { OfflineWorkdir } from "./support/terraform";

// Real Terraform against the real AWS provider (from the local mirror), with no AWS account.
describe.each(["staging", "production"] as const)("Terraform on the %s stack", (name) => {
  let workdir: OfflineWorkdir;

  beforeAll(() => {
    workdir = new OfflineWorkdir(synthStack(name));
    const init = workdir.run("init", "-input=false");
    if (init.code !== 0) throw new Error(`terraform init failed:\n${init.output}`);
  }, 120_000);

  afterAll(() => workdir?.remove());

  it("validates", () => {
    const validate = workdir.run("validate");
    expect(validate.output).toContain("The configuration is valid");
    expect(validate.code).toBe(0);
  }, 120_000);

  it("plans offline, creating everything and changing nothing else", () => {
    const plan = workdir.run("plan", "-input=false", "-lock=false", "-detailed-exitcode");
    // -detailed-exitcode: 2 means the plan succeeded and has changes.
    expect({ code: plan.code, errors: plan.output.match(/Error: .*/g) ?? [] }).toEqual({ code: 2, errors: [] });
    expect(plan.output).toMatch(/Plan: \d+ to add, 0 to change, 0 to destroy/);
  }, 180_000);
});
