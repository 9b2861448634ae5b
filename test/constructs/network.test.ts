import { Testing } from "cdktf";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Network, type NetworkProps } from "../../constructs/network";

const props: NetworkProps = {
  name: "mcp-test",
  region: "eu-west-1",
  cidr: "10.0.0.0/16",
  availabilityZones: ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
  publicSubnetCidrs: ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"],
  privateSubnetCidrs: ["10.0.16.0/20", "10.0.32.0/20", "10.0.48.0/20"],
};

function synth(overrides: Partial<NetworkProps> = {}) {
  return JSON.parse(Testing.synthScope((scope) => new Network(scope, "network", { ...props, ...overrides })));
}

const count = (json: { resource: Record<string, object> }, type: string) => Object.keys(json.resource[type] ?? {}).length;

describe("Network", () => {
  it("puts one public and one private subnet in each listed availability zone", () => {
    const json = synth();
    expect(count(json, Subnet.tfResourceType)).toBe(6);
    const synthesized = Testing.synthScope((scope) => new Network(scope, "network", props));
    expect(synthesized).toHaveResourceWithProperties(Subnet, { availability_zone: "eu-west-1c", cidr_block: "10.0.48.0/20", tags: { Name: "mcp-test-private-eu-west-1c", Tier: "private" } });
    expect(synthesized).toHaveResourceWithProperties(Subnet, { availability_zone: "eu-west-1a", map_public_ip_on_launch: false, tags: { Name: "mcp-test-public-eu-west-1a", Tier: "public" } });
  });

  it("builds a NAT gateway per zone by default, and one when shared", () => {
    expect(count(synth(), NatGateway.tfResourceType)).toBe(3);
    expect(count(synth({ natGateways: "single" }), NatGateway.tfResourceType)).toBe(1);
  });

  it("sends all VPC traffic to flow logs in CloudWatch", () => {
    const synthesized = Testing.synthScope((scope) => new Network(scope, "network", props));
    expect(synthesized).toHaveResourceWithProperties(FlowLog, { traffic_type: "ALL", log_destination_type: "cloud-watch-logs" });
  });

  it("puts the given permissions boundary on the flow-logs role, and none unless given", () => {
    const boundary = "arn:aws:iam::123456789012:policy/mcp-test-workload-boundary";
    const roles = (json: { resource: Record<string, Record<string, { name: string; permissions_boundary?: string }>> }) => Object.values(json.resource[IamRole.tfResourceType]);
    expect(roles(synth({ permissionsBoundaryArn: boundary })).map((r) => [r.name, r.permissions_boundary])).toEqual([["mcp-test-flow-logs", boundary]]);
    expect(roles(synth()).map((r) => r.permissions_boundary)).toEqual([undefined]);
  });

  it("adds the S3 gateway endpoint always and interface endpoints unless switched off", () => {
    const services = (json: { resource: Record<string, Record<string, { service_name: string }>> }) =>
      Object.values(json.resource[VpcEndpoint.tfResourceType]).map((e) => e.service_name).sort();
    expect(services(synth())).toEqual(["ecr.api", "ecr.dkr", "logs", "s3", "secretsmanager"].map((s) => `com.amazonaws.eu-west-1.${s}`));
    expect(services(synth({ interfaceEndpoints: false }))).toEqual(["com.amazonaws.eu-west-1.s3"]);
  });

  it("refuses subnets that do not match the zones", () => {
    expect(() => synth({ privateSubnetCidrs: ["10.0.16.0/20"] })).toThrow(/one public and one private subnet CIDR per zone/);
  });
});
