import { Construct } from "constructs";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { arnOf, resourceNames } from "../config/names";
import { policyDocument, type PolicyStatement } from "./iam";


/**
 * ARN of an environment's workload boundary. Deterministic, so the environment stack can put it on
 * its roles without reading the bootstrap stack's state, and the deploy role can require it.
 */
export function workloadBoundaryArn(region: string, accountId: string, namePrefix: string): string {
  return arnOf(region, "iam", "", accountId, `policy/${resourceNames.workloadBoundary(namePrefix)}`);
}

export interface WorkloadPermissionsBoundaryProps {
  /** Prefix of the environment's resource names, `mcp-<env>`; it names the policy and scopes its resources. Required. */
  readonly namePrefix: string;
  /** AWS account of the environment. Required. */
  readonly accountId: string;
  /** Region of the environment; calls elsewhere are outside the boundary. Required. */
  readonly region: string;
  /** Name of the image repository the tasks pull from, in the same account and region. @default "mcp-server" */
  readonly imageRepositoryName?: string;
  /** Allow ECS Exec sessions (ssmmessages), for environments with `service.enableExecuteCommand`. @default false */
  readonly executeCommand?: boolean;
}

/**
 * The most any role of one environment stack may ever do: pull the server image, write the
 * environment's logs, read its secrets, connect to its cache, send traces, and (when ECS Exec is on) open exec sessions.
 * Every `mcp-<env>-*` role carries it as its permissions boundary, and the deploy role may create or
 * change those roles only with it attached, so whatever policy the deploy role writes on a role, the
 * role's effective permissions stay inside this policy.
 */
export class WorkloadPermissionsBoundary extends Construct {
  public readonly policy: IamPolicy;
  /** The policy's ARN, known before it exists (see workloadBoundaryArn). */
  public readonly arn: string;
  public readonly statements: PolicyStatement[];

  constructor(scope: Construct, id: string, props: WorkloadPermissionsBoundaryProps) {
    super(scope, id);
    const { namePrefix: prefix, accountId: account, region } = props;
    const inRegion = [{ test: "StringEquals", variable: "aws:RequestedRegion", values: [region] }];
    const logGroup = (path: string) => arnOf(region, "logs", region, account, `log-group:${path}`);

    this.statements = [
      {
        sid: "LogInToRegistry",
        // The registry login token has no resource-level permissions; the pull below is scoped.
        actions: ["ecr:GetAuthorizationToken"],
        resources: ["*"],
        condition: inRegion,
      },
      {
        sid: "PullServerImage",
        actions: ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
        resources: [arnOf(region, "ecr", region, account, `repository/${props.imageRepositoryName ?? "mcp-server"}`)],
      },
      {
        sid: "WriteEnvironmentLogs",
        // Task logs and EMF metrics under /ecs/<prefix>/, VPC flow logs under /vpc/<prefix>/.
        actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        resources: [logGroup(`/ecs/${prefix}/*`), logGroup(`/vpc/${prefix}/*`)],
      },
      {
        sid: "ReadEnvironmentSecrets",
        actions: ["secretsmanager:GetSecretValue"],
        resources: [arnOf(region, "secretsmanager", region, account, `secret:${prefix}/*`)],
      },
      {
        sid: "ConnectToEnvironmentCache",
        // ElastiCache IAM authentication authorizes both the replication group and the user.
        actions: ["elasticache:Connect"],
        resources: [arnOf(region, "elasticache", region, account, `replicationgroup:${prefix}-*`), arnOf(region, "elasticache", region, account, `user:${prefix}-*`)],
      },
      {
        sid: "SendTraces",
        // X-Ray's write and sampling APIs have no resource-level permissions.
        actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"],
        resources: ["*"],
        condition: inRegion,
      },
      ...(props.executeCommand
        ? [
            {
              sid: "OpenExecSessions",
              // ECS Exec's session channels have no resource-level permissions.
              actions: ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"],
              resources: ["*"],
              condition: inRegion,
            },
          ]
        : []),
    ];
    this.arn = workloadBoundaryArn(region, account, prefix);
    this.policy = new IamPolicy(this, "policy", {
      name: resourceNames.workloadBoundary(prefix),
      description: `Permissions boundary of every ${prefix}-* role: the most the environment's workloads may do`,
      policy: policyDocument(this, "document", this.statements).json,
    });
  }
}
