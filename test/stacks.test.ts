import { synthStackText } from "./support/fixtures";

// Snapshots say what changed in the Terraform a pull request produces; the property and posture
// tests say whether it is right. Review a snapshot diff like any other code change.
describe.each(["staging", "production"] as const)("the %s stack", (name) => {
  it("synthesizes to the reviewed Terraform", () => {
    expect(JSON.parse(synthStackText(name))).toMatchSnapshot();
  });
});
