import { synthStack } from "./support/fixtures";
import { describeRealTerraform } from "./support/terraform";

// Real Terraform against the real AWS provider (from the local mirror), with no AWS account.
for (const name of ["staging", "production"] as const) {
  describeRealTerraform(`Terraform on the ${name} stack`, () => synthStack(name));
}
