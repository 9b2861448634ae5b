// Your own MCP server image (not Node, no Redis): it keeps the image contract's ports and
// health routes (docs/image-contract.md), checks its own health with its own command, runs on
// ARM64, and writes only where it says.
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { App, S3Backend, TerraformStack } from "cdktf";
import type { Construct } from "constructs";
import { McpDeployment } from "mcp-deploy";

const image = "210987654321.dkr.ecr.eu-central-1.amazonaws.com/go-mcp-server@sha256:" + "2".repeat(64);

class OwnImageStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, "aws", { region: "eu-central-1", allowedAccountIds: ["210987654321"] });
    new S3Backend(this, { bucket: "team-tfstate", key: "mcp/own-image.tfstate", region: "eu-central-1" });
    new McpDeployment(this, "mcp", {
      environment: "go",
      region: "eu-central-1",
      accountId: "210987654321",
      network: {
        cidr: "10.60.0.0/16",
        availabilityZones: ["eu-central-1a", "eu-central-1b"],
        publicSubnetCidrs: ["10.60.0.0/24", "10.60.1.0/24"],
        privateSubnetCidrs: ["10.60.16.0/20", "10.60.32.0/20"],
      },
      release: { environment: "go", stable: "blue", colors: { blue: { image, version: "0.9.0", weight: 100 }, green: { image, version: "0.9.0", weight: 0 } } },
      loadBalancer: { testListenerCidrs: ["10.60.0.0/16"], certificateArn: "arn:aws:acm:eu-central-1:210987654321:certificate/66666666-7777-8888-9999-000000000000", hostName: "mcp.example.com" },
      serverEnvironment: { MCP_UPSTREAM: "https://api.example.org" },
      redis: false,
      service: {
        cpuArchitecture: "ARM64",
        healthCheckCommand: ["CMD", "/server", "healthcheck"],
        writablePaths: ["/tmp", "/var/cache/server"],
        enableExecuteCommand: true,
      },
    });
  }
}

const app = new App();
new OwnImageStack(app, "own-image");
app.synth();
