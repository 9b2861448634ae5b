import type { Color } from "../config/release-manifest";

/**
 * The names an environment stack gives the resources whose ARNs are named after them, from the
 * environment's prefix (`mcp-<env>`). The constructs name their resources with these, and the
 * deploy role's grants are built from the same functions, so a rename cannot leave a grant behind.
 */
export const resourceNames = {
  /** The application load balancer. */
  loadBalancer: (prefix: string) => prefix,
  /** A colour's target group. */
  targetGroup: (prefix: string, color: Color) => `${prefix}-${color}`,
  /** The ECS cluster. */
  cluster: (prefix: string) => prefix,
  /** A colour's ECS service, and its task definition family. */
  service: (prefix: string, color: Color) => `${prefix}-${color}`,
};
