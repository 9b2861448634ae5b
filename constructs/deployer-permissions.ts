import type { PolicyStatement } from "./iam";
import { COLORS } from "../config/release-manifest";
import { arnOf, resourceNames } from "../config/names";

/** What an environment stack manages, by the names it gives its resources. */
export interface DeployerScope {
  /** Environment name, e.g. "staging". */
  readonly environment: string;
  /** Prefix of every resource name the environment stack creates: `mcp-<environment>`. */
  readonly namePrefix: string;
  /** Value of the `project` tag the environment stack's provider puts on every resource. */
  readonly projectTag: string;
  readonly accountId: string;
  readonly region: string;
  /** Terraform state bucket and the environment's key in it. */
  readonly stateBucket: string;
  readonly stateKey: string;
  /** ARN of the server's image repository. */
  readonly imageRepositoryArn: string;
  /** ARN of the permissions boundary every `<namePrefix>-*` role must carry (workloadBoundaryArn). */
  readonly workloadBoundaryArn: string;
}

/** Services whose first use in an account creates a service-linked role, which needs the caller's permission. */
const SERVICE_LINKED_ROLES = [
  "ecs.amazonaws.com",
  "elasticloadbalancing.amazonaws.com",
  "elasticache.amazonaws.com",
  "ecs.application-autoscaling.amazonaws.com",
];

const arns = (scope: DeployerScope) => {
  const { region, accountId: account, namePrefix: prefix } = scope;
  return {
    region: (service: string, resource: string) => arnOf(region, service, region, account, resource),
    global: (service: string, resource: string, owner = account) => arnOf(region, service, "", owner, resource),
    role: arnOf(region, "iam", "", account, `role/${prefix}-*`),
    flowLogsRole: arnOf(region, "iam", "", account, `role/${prefix}-flow-logs`),
    logBuckets: arnOf(region, "s3", "", "", `${prefix}-alb-logs-*`),
    stateBucket: arnOf(region, "s3", "", "", scope.stateBucket),
    stateObject: arnOf(region, "s3", "", "", `${scope.stateBucket}/${scope.stateKey}`),
    lockObject: arnOf(region, "s3", "", "", `${scope.stateBucket}/${scope.stateKey}.tflock`),
  };
};

type Condition = { test: string; variable: string; values: string[] };

const inRegion = (region: string): Condition[] => [{ test: "StringEquals", variable: "aws:RequestedRegion", values: [region] }];

/** Resources the environment stack tagged (provider default tags), so a role cannot touch anything else. */
const taggedForEnvironment = (scope: DeployerScope, key = "aws:ResourceTag"): Condition[] => [
  { test: "StringEquals", variable: `${key}/project`, values: [scope.projectTag] },
  { test: "StringEquals", variable: `${key}/environment`, values: [scope.environment] },
];

/**
 * Read access that `terraform plan` (refresh) and the release CLI's `status` need. Reads use the
 * services' Describe/List/Get verbs as wildcards: the AWS provider's refresh calls dozens of them,
 * an explicit list breaks on every provider upgrade, and none of them changes anything. Where a
 * read verb could reveal data (S3 objects, secret values, IAM policies) it is scoped to the
 * environment's own resources.
 */
export function readStatements(scope: DeployerScope): PolicyStatement[] {
  const arn = arns(scope);
  return [
    {
      sid: "DescribeManagedServices",
      // These Describe/List calls support no resource-level permissions: "*" within the region.
      actions: [
        "ec2:Describe*",
        "elasticloadbalancing:Describe*",
        "ecs:Describe*",
        "ecs:List*",
        "elasticache:Describe*",
        "elasticache:ListTagsForResource",
        "logs:Describe*",
        "logs:ListTagsForResource",
        "logs:ListTagsLogGroup",
        "logs:GetLogDelivery",
        "logs:ListLogDeliveries",
        "cloudwatch:Describe*",
        "cloudwatch:ListTagsForResource",
        "cloudwatch:GetDashboard",
        "cloudwatch:GetMetricData",
        "sns:GetTopicAttributes",
        "sns:GetSubscriptionAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:ListTagsForResource",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListAliases",
        "kms:ListResourceTags",
        "application-autoscaling:Describe*",
        "application-autoscaling:ListTagsForResource",
        "wafv2:GetWebACL",
        "wafv2:GetWebACLForResource",
        "wafv2:GetLoggingConfiguration",
        "wafv2:ListTagsForResource",
      ],
      resources: ["*"],
      condition: inRegion(scope.region),
    },
    {
      sid: "ReadEnvironmentRoles",
      actions: ["iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:ListRoleTags", "iam:ListInstanceProfilesForRole"],
      resources: [arn.role],
    },
    {
      sid: "ReadLoadBalancerLogBuckets",
      // Refreshing a bucket reads each of its configurations (ACL, CORS, website, logging, ...): Get* on the buckets alone, not their objects.
      actions: ["s3:Get*", "s3:ListBucket"],
      resources: [arn.logBuckets],
    },
    {
      sid: "ReadImages",
      actions: ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:ListImages"],
      resources: [scope.imageRepositoryArn],
    },
    { sid: "ListState", actions: ["s3:ListBucket"], resources: [arn.stateBucket] },
    { sid: "ReadState", actions: ["s3:GetObject"], resources: [arn.stateObject] },
    // Reading the lock object tells a plan without locking (-lock=false, pull requests) nothing it needs; taking the lock is the deploy role's.
  ];
}

/**
 * What the plan role of pull requests may never do, whatever else it is granted: read a secret's
 * value. Anyone who can open a pull request from a branch can run a plan with this role.
 */
export function planDenyStatements(): PolicyStatement[] {
  return [{ sid: "DenySecretValues", effect: "Deny", actions: ["secretsmanager:GetSecretValue"], resources: ["*"] }];
}

/**
 * Write access for `cdktf deploy` of one environment stack and the release CLI. Actions are listed
 * one by one; resources are the environment's by name (`mcp-<env>-*`) where the service names its
 * ARNs after the resource, and by the environment's tags where ARNs carry generated ids (EC2, KMS).
 */
export function deployStatements(scope: DeployerScope): Record<"network" | "edge" | "services" | "release" | "identity-and-storage", PolicyStatement[]> {
  // Grouped into policies of at most 6,144 characters each, IAM's limit for a managed policy.
  return {
    network: networkStatements(scope),
    edge: edgeStatements(scope),
    services: serviceStatements(scope),
    release: releaseStatements(scope),
    "identity-and-storage": identityAndStorageStatements(scope),
  };
}

/** The web ACL in front of the load balancer: its rules, its association and its logging. */
function edgeStatements(scope: DeployerScope): PolicyStatement[] {
  const arn = arns(scope);
  const prefix = scope.namePrefix;
  return [
    {
      sid: "ManageWebAcl",
      actions: [
        "wafv2:CreateWebACL",
        "wafv2:UpdateWebACL",
        "wafv2:DeleteWebACL",
        "wafv2:TagResource",
        "wafv2:UntagResource",
        "wafv2:AssociateWebACL",
        "wafv2:PutLoggingConfiguration",
        "wafv2:DeleteLoggingConfiguration",
      ],
      resources: [arn.region("wafv2", `regional/webacl/${resourceNames.webAcl(prefix)}/*`)],
    },
    {
      sid: "AttachWebAclToLoadBalancer",
      // WAF authorizes an association on both ends; a disassociation on the load balancer only.
      actions: ["wafv2:AssociateWebACL", "wafv2:DisassociateWebACL"],
      resources: [arn.region("elasticloadbalancing", `loadbalancer/app/${resourceNames.loadBalancer(prefix)}/*`)],
    },
    {
      sid: "SetLoadBalancerWebAcl",
      // Checked by AssociateWebACL on the caller; it supports no resource-level permissions.
      actions: ["elasticloadbalancing:SetWebAcl"],
      resources: ["*"],
      condition: inRegion(scope.region),
    },
  ];
}

/** What the release CLI does beside Terraform: keep deployed images, and run the in-VPC verify task. */
function releaseStatements(scope: DeployerScope): PolicyStatement[] {
  const arn = arns(scope);
  const prefix = scope.namePrefix;
  return [
    {
      sid: "TagReleasedImages",
      // release deploy tags each image it deploys (config/names.ts releasedImageTag), which the
      // lifecycle policy then keeps. PutImage can only name blobs already pushed: no layer upload is granted.
      actions: ["ecr:BatchGetImage", "ecr:PutImage"],
      resources: [scope.imageRepositoryArn],
    },
    {
      sid: "RunVerifyTasks",
      // release verify runs one task of a colour's own task definition, in the environment's cluster
      // only, waits for it, stops it on a timeout and reads the server container's log stream.
      actions: ["ecs:RunTask", "ecs:StopTask"],
      resources: [
        ...COLORS.map((color) => arn.region("ecs", `task-definition/${resourceNames.service(prefix, color)}:*`)),
        arn.region("ecs", `task/${resourceNames.cluster(prefix)}/*`),
      ],
      condition: [{ test: "ArnEquals", variable: "ecs:cluster", values: [arn.region("ecs", `cluster/${resourceNames.cluster(prefix)}`)] }],
    },
    {
      sid: "ReadVerifyTaskLogs",
      actions: ["logs:GetLogEvents"],
      resources: COLORS.map((color) => arn.region("logs", `log-group:${resourceNames.serviceLogGroup(prefix, color)}:log-stream:${resourceNames.serviceLogStreamPrefix(color)}/*`)),
    },
  ];
}

function networkStatements(scope: DeployerScope): PolicyStatement[] {
  const arn = arns(scope);
  const prefix = scope.namePrefix;
  const region = scope.region;
  return [
    {
      sid: "CreateNetwork",
      // EC2 ids are generated, so creation cannot be scoped by name; it is held to the region.
      actions: [
        "ec2:CreateVpc",
        "ec2:ModifyVpcAttribute",
        "ec2:CreateSubnet",
        "ec2:ModifySubnetAttribute",
        "ec2:CreateRouteTable",
        "ec2:CreateRoute",
        "ec2:ReplaceRoute",
        "ec2:AssociateRouteTable",
        "ec2:ReplaceRouteTableAssociation",
        "ec2:CreateInternetGateway",
        "ec2:AttachInternetGateway",
        "ec2:AllocateAddress",
        "ec2:CreateNatGateway",
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:AuthorizeSecurityGroupEgress",
        "ec2:ModifySecurityGroupRules",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
        "ec2:UpdateSecurityGroupRuleDescriptionsEgress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:CreateVpcEndpoint",
        "ec2:ModifyVpcEndpoint",
        "ec2:CreateFlowLogs",
        "ec2:DisassociateRouteTable",
        "ec2:DeleteRoute",
      ],
      resources: ["*"],
      condition: inRegion(region),
    },
    {
      sid: "TagNetworkOnCreate",
      actions: ["ec2:CreateTags"],
      resources: ["*"],
      condition: [
        ...inRegion(region),
        {
          test: "StringEquals",
          variable: "ec2:CreateAction",
          values: ["CreateVpc", "CreateSubnet", "CreateRouteTable", "CreateInternetGateway", "AllocateAddress", "CreateNatGateway", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "CreateVpcEndpoint", "CreateFlowLogs"],
        },
      ],
    },
    {
      sid: "TagDefaultSecurityGroup",
      // CreateVpc makes the VPC's default security group untagged, so the tagged-resource rule below
      // cannot cover adopting it (aws_default_security_group). This allows putting exactly this
      // environment's default tags on a security group that carries none yet, and nothing else.
      actions: ["ec2:CreateTags"],
      resources: [arn.region("ec2", "security-group/*")],
      condition: [
        ...inRegion(region),
        { test: "Null", variable: "aws:ResourceTag/project", values: ["true"] },
        ...taggedForEnvironment(scope, "aws:RequestTag"),
      ],
    },
    {
      sid: "ChangeOwnNetwork",
      // Deleting or retagging is allowed only on what carries this environment's tags, so the role
      // cannot tear down another environment's or another project's network in the same account.
      actions: [
        "ec2:CreateTags",
        "ec2:DeleteTags",
        "ec2:DeleteVpc",
        "ec2:DeleteSubnet",
        "ec2:DeleteRouteTable",
        "ec2:DeleteInternetGateway",
        "ec2:DetachInternetGateway",
        "ec2:ReleaseAddress",
        "ec2:DisassociateAddress",
        "ec2:DeleteNatGateway",
        "ec2:DeleteSecurityGroup",
        "ec2:DeleteVpcEndpoints",
        "ec2:DeleteFlowLogs",
      ],
      resources: ["*"],
      condition: [...inRegion(region), ...taggedForEnvironment(scope)],
    },
    {
      sid: "PrivateDnsForEndpoints",
      // Interface endpoints with private DNS associate the VPC with a private hosted zone AWS owns,
      // whose id is not known in advance; the call changes nothing outside that association.
      actions: ["route53:AssociateVPCWithHostedZone"],
      resources: ["*"],
      // Route 53 is global: its calls arrive with aws:RequestedRegion us-east-1.
      condition: inRegion("us-east-1"),
    },
    {
      sid: "ManageLoadBalancer",
      actions: [
        "elasticloadbalancing:CreateLoadBalancer",
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets",
        "elasticloadbalancing:SetIpAddressType",
        "elasticloadbalancing:CreateTargetGroup",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:CreateListener",
        "elasticloadbalancing:DeleteListener",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:AddListenerCertificates",
        "elasticloadbalancing:RemoveListenerCertificates",
        "elasticloadbalancing:CreateRule",
        "elasticloadbalancing:DeleteRule",
        "elasticloadbalancing:ModifyRule",
        "elasticloadbalancing:AddTags",
        "elasticloadbalancing:RemoveTags",
      ],
      resources: [
        arn.region("elasticloadbalancing", `loadbalancer/app/${resourceNames.loadBalancer(prefix)}/*`),
        arn.region("elasticloadbalancing", `listener/app/${resourceNames.loadBalancer(prefix)}/*`),
        arn.region("elasticloadbalancing", `listener-rule/app/${resourceNames.loadBalancer(prefix)}/*`),
        ...COLORS.map((color) => arn.region("elasticloadbalancing", `targetgroup/${resourceNames.targetGroup(prefix, color)}/*`)),
      ],
    },
  ];
}

function serviceStatements(scope: DeployerScope): PolicyStatement[] {
  const arn = arns(scope);
  const prefix = scope.namePrefix;
  const region = scope.region;
  return [
    {
      sid: "ManageContainers",
      actions: [
        "ecs:CreateCluster",
        "ecs:DeleteCluster",
        "ecs:UpdateCluster",
        "ecs:UpdateClusterSettings",
        "ecs:PutClusterCapacityProviders",
        "ecs:CreateService",
        "ecs:UpdateService",
        "ecs:DeleteService",
        "ecs:TagResource",
        "ecs:UntagResource",
      ],
      resources: [
        arn.region("ecs", `cluster/${resourceNames.cluster(prefix)}`),
        ...COLORS.map((color) => arn.region("ecs", resourceNames.scalableTarget(resourceNames.cluster(prefix), resourceNames.service(prefix, color)))),
        ...COLORS.map((color) => arn.region("ecs", `task-definition/${resourceNames.service(prefix, color)}:*`)),
      ],
    },
    {
      sid: "RegisterTaskDefinitions",
      // Registering and deregistering task definitions supports no resource-level permissions.
      actions: ["ecs:RegisterTaskDefinition", "ecs:DeregisterTaskDefinition"],
      resources: ["*"],
      condition: inRegion(region),
    },
    {
      sid: "ManageCache",
      actions: [
        "elasticache:CreateReplicationGroup",
        "elasticache:ModifyReplicationGroup",
        "elasticache:DeleteReplicationGroup",
        "elasticache:IncreaseReplicaCount",
        "elasticache:DecreaseReplicaCount",
        "elasticache:CreateCacheCluster",
        "elasticache:DeleteCacheCluster",
        "elasticache:CreateSnapshot",
        "elasticache:CreateCacheSubnetGroup",
        "elasticache:ModifyCacheSubnetGroup",
        "elasticache:DeleteCacheSubnetGroup",
        "elasticache:CreateCacheParameterGroup",
        "elasticache:ModifyCacheParameterGroup",
        "elasticache:ResetCacheParameterGroup",
        "elasticache:DeleteCacheParameterGroup",
        "elasticache:CreateUser",
        "elasticache:ModifyUser",
        "elasticache:DeleteUser",
        "elasticache:CreateUserGroup",
        "elasticache:ModifyUserGroup",
        "elasticache:DeleteUserGroup",
        "elasticache:AddTagsToResource",
        "elasticache:RemoveTagsFromResource",
      ],
      // Replication groups, their member clusters, subnet and parameter groups, final snapshots, users and user groups, all named mcp-<env>-*.
      resources: ["replicationgroup", "cluster", "subnetgroup", "parametergroup", "snapshot", "user", "usergroup"].map((type) => arn.region("elasticache", `${type}:${prefix}-*`)),
    },
    {
      sid: "DeliverServiceLogs",
      // ElastiCache's slow log and the web ACL's logs go to CloudWatch Logs through a log delivery, which has no resource ARN.
      actions: ["logs:CreateLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies"],
      resources: ["*"],
      condition: inRegion(region),
    },
    {
      sid: "ManageLogGroups",
      actions: [
        "logs:CreateLogGroup",
        "logs:DeleteLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:AssociateKmsKey",
        "logs:DisassociateKmsKey",
        "logs:PutMetricFilter",
        "logs:DeleteMetricFilter",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:TagLogGroup",
        "logs:UntagLogGroup",
      ],
      // /ecs/mcp-<env>/..., /vpc/mcp-<env>/..., /elasticache/mcp-<env>-.../..., and the web ACL's aws-waf-logs-mcp-<env>
      resources: [arn.region("logs", `log-group:/*/${prefix}*`), arn.region("logs", `log-group:${resourceNames.webAclLogGroup(prefix)}`)],
    },
    {
      sid: "ManageAlarmsAndDashboards",
      actions: [
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:PutCompositeAlarm",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:EnableAlarmActions",
        "cloudwatch:DisableAlarmActions",
        "cloudwatch:TagResource",
        "cloudwatch:UntagResource",
        "cloudwatch:PutDashboard",
        "cloudwatch:DeleteDashboards",
      ],
      resources: [
        arn.region("cloudwatch", `alarm:${prefix}-*`),
        // Target tracking policies create and delete their alarms with the caller's permissions.
        ...COLORS.map((color) => arn.region("cloudwatch", `alarm:TargetTracking-${resourceNames.scalableTarget(resourceNames.cluster(prefix), resourceNames.service(prefix, color))}-*`)),
        arn.global("cloudwatch", `dashboard/${prefix}*`),
      ],
    },
    {
      sid: "ManageAlarmTopics",
      actions: [
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:SetTopicAttributes",
        "sns:Subscribe",
        "sns:Unsubscribe",
        "sns:SetSubscriptionAttributes",
        "sns:TagResource",
        "sns:UntagResource",
      ],
      // Topics and their subscriptions (<topic ARN>:<id>).
      resources: [arn.region("sns", `${prefix}-*`)],
    },
    {
      sid: "CreateTaggedKeys",
      // A new key's ARN is a generated id: creation is allowed only with this environment's tags on it.
      // Tagging on create is authorized as kms:TagResource on "*", as the key does not exist yet.
      actions: ["kms:CreateKey", "kms:TagResource"],
      resources: ["*"],
      condition: [...inRegion(region), ...taggedForEnvironment(scope, "aws:RequestTag")],
    },
    {
      sid: "ManageOwnKeys",
      actions: [
        "kms:PutKeyPolicy",
        "kms:UpdateKeyDescription",
        "kms:EnableKeyRotation",
        "kms:DisableKeyRotation",
        "kms:ScheduleKeyDeletion",
        "kms:CancelKeyDeletion",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:UpdateAlias",
      ],
      resources: [arn.region("kms", "key/*")],
      condition: taggedForEnvironment(scope),
    },
    {
      sid: "ManageKeyAliases",
      // An alias call is authorized on the alias as well as on the key (above).
      actions: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
      resources: [arn.region("kms", `alias/${prefix}-*`)],
    },
    {
      sid: "ManageAutoscaling",
      // Scalable targets are named by generated ids; held to the region.
      actions: [
        "application-autoscaling:RegisterScalableTarget",
        "application-autoscaling:DeregisterScalableTarget",
        "application-autoscaling:PutScalingPolicy",
        "application-autoscaling:DeleteScalingPolicy",
        "application-autoscaling:TagResource",
        "application-autoscaling:UntagResource",
      ],
      resources: ["*"],
      condition: inRegion(region),
    },
  ];
}

function identityAndStorageStatements(scope: DeployerScope): PolicyStatement[] {
  const arn = arns(scope);
  return [
    {
      sid: "WriteState",
      actions: ["s3:PutObject"],
      resources: [arn.stateObject],
    },
    {
      sid: "LockState",
      // S3-native locking (use_lockfile): every locking plan and apply writes and removes a lock
      // object beside the state. Pull-request plans run with -lock=false, so the plan role has none.
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
      resources: [arn.lockObject],
    },
    {
      sid: "ManageEnvironmentRoles",
      // Only roles named mcp-<env>-*: the GitHub roles themselves are named outside that prefix,
      // so this role can never widen its own trust or permissions. None of these adds permissions to a role.
      actions: ["iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:DeleteRolePolicy", "iam:TagRole", "iam:UntagRole"],
      resources: [arn.role],
    },
    {
      sid: "GrantOnlyWithinBoundary",
      // A role may be created or given permissions only with the workload boundary on it, so no
      // policy written here (AdministratorAccess included) lets a task do more than the boundary.
      // Managed-policy attachment is not granted at all: the workload roles use inline policies.
      actions: ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"],
      resources: [arn.role],
      condition: [{ test: "StringEquals", variable: "iam:PermissionsBoundary", values: [scope.workloadBoundaryArn] }],
    },
    {
      sid: "DenyRemovingBoundaries",
      effect: "Deny",
      actions: ["iam:DeleteRolePermissionsBoundary"],
      resources: [arn.global("iam", "role/*")],
    },
    {
      sid: "DenyChangingBoundary",
      // No Allow here covers the boundary policy; the Deny keeps it so whatever is added later.
      effect: "Deny",
      actions: ["iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"],
      resources: [scope.workloadBoundaryArn],
    },
    {
      sid: "PassRolesToTasks",
      actions: ["iam:PassRole"],
      resources: [arn.role],
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["ecs-tasks.amazonaws.com"] }],
    },
    {
      sid: "PassFlowLogsRole",
      // VPC flow logs deliver to CloudWatch Logs with the environment's flow-logs role.
      actions: ["iam:PassRole"],
      resources: [arn.flowLogsRole],
      condition: [{ test: "StringEquals", variable: "iam:PassedToService", values: ["vpc-flow-logs.amazonaws.com"] }],
    },
    {
      sid: "CreateServiceLinkedRoles",
      actions: ["iam:CreateServiceLinkedRole"],
      resources: [arn.global("iam", "role/aws-service-role/*")],
      condition: [{ test: "StringEquals", variable: "iam:AWSServiceName", values: SERVICE_LINKED_ROLES }],
    },
    {
      sid: "ManageLoadBalancerLogBuckets",
      actions: [
        "s3:CreateBucket",
        "s3:DeleteBucket",
        "s3:PutBucketPolicy",
        "s3:DeleteBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketOwnershipControls",
        "s3:PutEncryptionConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutBucketTagging",
        // A bucket with force_destroy (deletion protection off) is emptied before it is deleted.
        "s3:ListBucketVersions",
      ],
      resources: [arn.logBuckets],
    },
    {
      sid: "EmptyLoadBalancerLogBuckets",
      actions: ["s3:DeleteObject", "s3:DeleteObjectVersion"],
      resources: [`${arn.logBuckets}/*`],
    },
  ];
}

/** Push access to the one image repository, for the workflow that builds the server image. */
export function imagePushStatements(imageRepositoryArn: string): PolicyStatement[] {
  return [
    // The registry login token has no resource-level permissions; what it may push is scoped below.
    { sid: "LogInToRegistry", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
    {
      sid: "PushImages",
      actions: [
        "ecr:BatchCheckLayerAvailability",
        "ecr:InitiateLayerUpload",
        "ecr:UploadLayerPart",
        "ecr:CompleteLayerUpload",
        "ecr:PutImage",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:DescribeImages",
      ],
      resources: [imageRepositoryArn],
    },
  ];
}
