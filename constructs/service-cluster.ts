import { Construct } from "constructs";
import { EcsCluster } from "@cdktf/provider-aws/lib/ecs-cluster";
import { resourceNames } from "../config/names";
import { EcsClusterCapacityProviders } from "@cdktf/provider-aws/lib/ecs-cluster-capacity-providers";

export interface ServiceClusterProps {
  /** Prefix of the environment's resource names (`mcp-<env>`); the cluster is named after it. Required. */
  readonly name: string;
  /** Container Insights level: "enhanced" adds per-container metrics; "enabled" is the cheaper standard level. @default "enhanced" */
  readonly containerInsights?: "enabled" | "enhanced";
}

/** The ECS cluster both colours share, with Container Insights and the Fargate capacity providers. */
export class ServiceCluster extends Construct {
  public readonly cluster: EcsCluster;

  constructor(scope: Construct, id: string, props: ServiceClusterProps) {
    super(scope, id);
    this.cluster = new EcsCluster(this, "cluster", {
      name: resourceNames.cluster(props.name),
      setting: [{ name: "containerInsights", value: props.containerInsights ?? "enhanced" }],
    });
    new EcsClusterCapacityProviders(this, "capacity", {
      clusterName: this.cluster.name,
      capacityProviders: ["FARGATE", "FARGATE_SPOT"],
      defaultCapacityProviderStrategy: [{ capacityProvider: "FARGATE", weight: 1, base: 0 }],
    });
  }
}
