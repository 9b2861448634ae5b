// MCP tools used only inside the company network: an internal load balancer in the private
// subnets, reachable from the corporate ranges only, over HTTPS with an internal certificate.
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { McpDeployment } from "mcp-deploy";

const image = "210987654321.dkr.ecr.eu-central-1.amazonaws.com/mcp-server@sha256:" + "1".repeat(64);
const corporate = ["10.0.0.0/8", "172.16.0.0/12"];

class InternalStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: "eu-central-1", allowedAccountIds: ["210987654321"] });
    new S3Backend(this, { bucket: "team-tfstate", key: "mcp/internal.tfstate", region: "eu-central-1" });
    new McpDeployment(this, "mcp", {
      environment: "tools",
      region: "eu-central-1",
      accountId: "210987654321",
      network: {
        cidr: "10.50.0.0/16",
        availabilityZones: ["eu-central-1a", "eu-central-1b"],
        publicSubnetCidrs: ["10.50.0.0/24", "10.50.1.0/24"],
        privateSubnetCidrs: ["10.50.16.0/20", "10.50.32.0/20"],
        natGateways: "single",
      },
      release: { environment: "tools", stable: "green", colors: { blue: { image, version: "2.0.0", weight: 0 }, green: { image, version: "2.0.0", weight: 100 } } },
      loadBalancer: {
        internal: true,
        clientCidrs: corporate,
        testListenerCidrs: corporate,
        certificateArn: "arn:aws:acm:eu-central-1:210987654321:certificate/11111111-2222-3333-4444-555555555555",
        hostName: "mcp-tools.corp.example.com",
      },
      serverEnvironment: { UPSTREAM_URL: "https://wiki.corp.example.com/api" },
    });
  }
}

const app = new App();
new InternalStack(app, "internal");
app.synth();
