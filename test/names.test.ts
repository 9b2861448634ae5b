import { arnOf, namePrefix, partitionOf, resourceNames } from "../config/names";
import { deployStatements, readStatements, type DeployerScope } from "../constructs/deployer-permissions";
import { WorkloadPermissionsBoundary, workloadBoundaryArn } from "../constructs/workload-permissions-boundary";
import { Testing } from "cdktf";

describe("names and ARNs", () => {
  it("puts each region's ARNs in its partition", () => {
    expect(["eu-west-1", "us-gov-west-1", "cn-north-1"].map(partitionOf)).toEqual(["aws", "aws-us-gov", "aws-cn"]);
    expect(arnOf("us-gov-west-1", "ecs", "us-gov-west-1", "111111111111", "cluster/x")).toBe("arn:aws-us-gov:ecs:us-gov-west-1:111111111111:cluster/x");
  });

  it("writes no commercial-partition ARN into the grants of a GovCloud environment", () => {
    const prefix = namePrefix("gov");
    const scope: DeployerScope = {
      environment: "gov",
      namePrefix: prefix,
      projectTag: "mcp-deploy",
      accountId: "111111111111",
      region: "us-gov-west-1",
      stateBucket: "gov-tfstate",
      stateKey: "mcp-deploy/gov.tfstate",
      imageRepositoryArn: arnOf("us-gov-west-1", "ecr", "us-gov-west-1", "111111111111", "repository/mcp-server"),
      workloadBoundaryArn: workloadBoundaryArn("us-gov-west-1", "111111111111", prefix),
    };
    const stack = Testing.synthScope((s) => new WorkloadPermissionsBoundary(s, "boundary", { namePrefix: prefix, accountId: "111111111111", region: "us-gov-west-1" }));
    const everything = JSON.stringify([readStatements(scope), deployStatements(scope)]) + stack;
    expect(everything).not.toMatch(/arn:aws:/);
    expect(everything).toMatch(/arn:aws-us-gov:/);
  });

  it("names the scaling target, the release gate's alarm and the log groups as the constructs do", () => {
    const service = resourceNames.service("mcp-staging", "blue");
    expect(resourceNames.scalableTarget(resourceNames.cluster("mcp-staging"), service)).toBe("service/mcp-staging/mcp-staging-blue");
    expect(resourceNames.unhealthyAlarm(service)).toBe("mcp-staging-blue-unhealthy");
    expect(resourceNames.sidecarLogGroup("mcp-staging", "blue", "collector")).toBe("/ecs/mcp-staging/blue/collector");
  });
});
