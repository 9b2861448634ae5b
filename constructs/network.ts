import { NETWORK_DEFAULTS, withDefaults } from "../config/defaults";
import { resourceNames } from "../config/names";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { serviceRole } from "./iam";

export interface NetworkProps {
  /** Prefix of every resource name. Required. */
  readonly name: string;
  /** AWS region, for endpoint service names. Required. */
  readonly region: string;
  /** IPv4 range of the VPC. Required. */
  readonly cidr: string;
  /** Availability zones, named explicitly (no data-source lookup). Required; two or more. */
  readonly availabilityZones: string[];
  /** One public subnet CIDR per availability zone, same order. Required. */
  readonly publicSubnetCidrs: string[];
  /** One private subnet CIDR per availability zone, same order. Required. */
  readonly privateSubnetCidrs: string[];
  /** NAT gateways: one per AZ (survives an AZ outage) or a single shared one. @default "one-per-az" */
  readonly natGateways?: "one-per-az" | "single";
  /** Interface endpoints for ECR (api, dkr), CloudWatch Logs and Secrets Manager. @default true */
  readonly interfaceEndpoints?: boolean;
  /** Days to keep VPC flow logs. @default 90 */
  readonly flowLogRetentionDays?: number;
  /** ARN of the permissions boundary put on the flow-logs role. @default none */
  readonly permissionsBoundaryArn?: string;
  /** KMS key (ARN) that encrypts the flow log group; its policy must let logs.<region>.amazonaws.com use it. @default CloudWatch Logs' own encryption */
  readonly logsKmsKeyArn?: string;
}

const INTERFACE_ENDPOINT_SERVICES = ["ecr.api", "ecr.dkr", "logs", "secretsmanager"];

/** A VPC with public and private subnets per AZ, NAT, flow logs and the endpoints that keep image pulls and logs off NAT. */
export class Network extends Construct {
  public readonly vpc: Vpc;
  public readonly publicSubnetIds: string[];
  public readonly privateSubnetIds: string[];
  /** Public IPv4 addresses of the NAT gateways: where the private subnets' traffic to the internet comes from. */
  public readonly natPublicIps: string[];

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { natGateways, interfaceEndpoints, flowLogRetentionDays } = withDefaults(NETWORK_DEFAULTS, props);
    const { name, availabilityZones: azs } = props;
    if (azs.length < 2 || props.publicSubnetCidrs.length !== azs.length || props.privateSubnetCidrs.length !== azs.length) {
      throw new Error(`Network ${id}: give two or more availabilityZones and exactly one public and one private subnet CIDR per zone`);
    }

    this.vpc = new Vpc(this, "vpc", {
      cidrBlock: props.cidr,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      tags: { Name: name },
    });
    // The default security group allows all traffic between its members; nothing should use it.
    new DefaultSecurityGroup(this, "default-sg", { vpcId: this.vpc.id, tags: { Name: `${name}-default-unused` } });

    const igw = new InternetGateway(this, "igw", { vpcId: this.vpc.id, tags: { Name: name } });
    const publicRoutes = new RouteTable(this, "public-routes", {
      vpcId: this.vpc.id,
      route: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      tags: { Name: `${name}-public` },
    });

    const publicSubnets = azs.map((az, i) => {
      const subnet = new Subnet(this, `public-${az}`, {
        vpcId: this.vpc.id,
        availabilityZone: az,
        cidrBlock: props.publicSubnetCidrs[i],
        mapPublicIpOnLaunch: false,
        tags: { Name: `${name}-public-${az}`, Tier: "public" },
      });
      new RouteTableAssociation(this, `public-${az}-routes`, { subnetId: subnet.id, routeTableId: publicRoutes.id });
      return subnet;
    });

    const natCount = natGateways === "single" ? 1 : azs.length;
    const natIps: string[] = [];
    const nats = publicSubnets.slice(0, natCount).map((subnet, i) => {
      const eip = new Eip(this, `nat-eip-${azs[i]}`, { domain: "vpc", tags: { Name: `${name}-nat-${azs[i]}` } });
      natIps.push(eip.publicIp);
      return new NatGateway(this, `nat-${azs[i]}`, {
        allocationId: eip.allocationId,
        subnetId: subnet.id,
        tags: { Name: `${name}-nat-${azs[i]}` },
        dependsOn: [igw],
      });
    });

    this.natPublicIps = natIps;

    const privateRouteTables = azs.map(
      (az, i) =>
        new RouteTable(this, `private-routes-${az}`, {
          vpcId: this.vpc.id,
          route: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nats[i % nats.length].id }],
          tags: { Name: `${name}-private-${az}` },
        }),
    );
    const privateSubnets = azs.map((az, i) => {
      const subnet = new Subnet(this, `private-${az}`, {
        vpcId: this.vpc.id,
        availabilityZone: az,
        cidrBlock: props.privateSubnetCidrs[i],
        tags: { Name: `${name}-private-${az}`, Tier: "private" },
      });
      new RouteTableAssociation(this, `private-${az}-routes`, { subnetId: subnet.id, routeTableId: privateRouteTables[i].id });
      return subnet;
    });
    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.privateSubnetIds = privateSubnets.map((s) => s.id);

    this.addFlowLogs(name, flowLogRetentionDays, props.permissionsBoundaryArn, props.logsKmsKeyArn);

    // Image layers come from S3: the gateway endpoint is free and keeps them off NAT.
    new VpcEndpoint(this, "s3-endpoint", {
      vpcId: this.vpc.id,
      serviceName: `com.amazonaws.${props.region}.s3`,
      vpcEndpointType: "Gateway",
      routeTableIds: privateRouteTables.map((t) => t.id),
      tags: { Name: `${name}-s3` },
    });
    if (interfaceEndpoints) this.addInterfaceEndpoints(name, props.region, props.cidr);
  }

  private addFlowLogs(name: string, retentionDays: number, permissionsBoundary: string | undefined, kmsKeyId: string | undefined): void {
    const logGroup = new CloudwatchLogGroup(this, "flow-logs", { name: resourceNames.flowLogGroup(name), retentionInDays: retentionDays, kmsKeyId });
    const role = serviceRole(this, "flow-logs-role", {
      name: `${name}-flow-logs`,
      service: "vpc-flow-logs.amazonaws.com",
      permissionsBoundary,
      statements: [
        {
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [logGroup.arn, `${logGroup.arn}:*`],
        },
      ],
    });
    new FlowLog(this, "flow-log", {
      vpcId: this.vpc.id,
      trafficType: "ALL",
      logDestinationType: "cloud-watch-logs",
      logDestination: logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 60,
    });
  }

  private addInterfaceEndpoints(name: string, region: string, vpcCidr: string): void {
    const sg = new SecurityGroup(this, "endpoints-sg", {
      name: `${name}-endpoints`,
      description: "HTTPS from inside the VPC to AWS interface endpoints",
      vpcId: this.vpc.id,
      tags: { Name: `${name}-endpoints` },
    });
    new VpcSecurityGroupIngressRule(this, "endpoints-https", {
      securityGroupId: sg.id,
      description: "HTTPS from the VPC",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      cidrIpv4: vpcCidr,
    });
    for (const service of INTERFACE_ENDPOINT_SERVICES) {
      new VpcEndpoint(this, `${service.replace(".", "-")}-endpoint`, {
        vpcId: this.vpc.id,
        serviceName: `com.amazonaws.${region}.${service}`,
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: this.privateSubnetIds,
        securityGroupIds: [sg.id],
        tags: { Name: `${name}-${service}` },
      });
    }
  }
}
