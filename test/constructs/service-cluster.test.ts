import { Testing } from "cdktf";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { ServiceCluster } from "../../constructs/service-cluster";

describe("ServiceCluster", () => {
  it("turns Container Insights on", () => {
    const synthesized = Testing.synthScope((scope) => new ServiceCluster(scope, "cluster", { name: "mcp-test" }));
    expect(synthesized).toHaveResourceWithProperties(EcsCluster, { name: "mcp-test", setting: [{ name: "containerInsights", value: "enhanced" }] });
  });
});
