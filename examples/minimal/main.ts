// The smallest useful deployment: into a VPC that exists already (its subnets, its one NAT
// gateway), behind an HTTP-only load balancer, with every other setting at its default.
// Synthesize with `npx ts-node main.ts` (or bundle it), then plan and apply with Terraform.
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { McpDeployment } from "mcp-deploy";

const image = "210987654321.dkr.ecr.eu-central-1.amazonaws.com/mcp-server@sha256:" + "0".repeat(64);

class MinimalStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: "eu-central-1", allowedAccountIds: ["210987654321"] });
    new S3Backend(this, { bucket: "team-tfstate", key: "mcp/minimal.tfstate", region: "eu-central-1" });
    new McpDeployment(this, "mcp", {
      environment: "minimal",
      region: "eu-central-1",
      accountId: "210987654321",
      network: {
        vpcId: "vpc-0123456789abcdef0",
        vpcCidr: "10.40.0.0/16",
        publicSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
        privateSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"],
      },
      release: { environment: "minimal", stable: "blue", colors: { blue: { image, version: "1.0.0", weight: 100 }, green: { image, version: "1.0.0", weight: 0 } } },
      // No certificateArn: HTTP only. Fine to try things out; production wants HTTPS (bearer tokens).
      loadBalancer: { testListenerCidrs: ["10.40.0.0/16"], deletionProtection: false },
      serverEnvironment: { UPSTREAM_URL: "https://api.example.org" },
      service: { minTasks: 1, maxTasks: 2 },
      redis: { replicas: 0 },
    });
  }
}

const app = new App();
new MinimalStack(app, "minimal");
app.synth();
