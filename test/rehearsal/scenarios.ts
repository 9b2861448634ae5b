import { namePrefix, resourceNames } from "../../config/names";
import { parse as parseYaml } from "yaml";
import type { EnvironmentConfig } from "../../config/schema";
import { verifierClient } from "../../release/commands/verify";
import type { AccountModel, Call, Principal } from "./account";
import { providerCallsOf, tagContext } from "./calls";
import type { RenderedStack } from "./render";

/** The calls one scenario makes: those AWS must allow, and those it must refuse. */
export interface Rehearsal {
  readonly allow: Call[];
  readonly deny: Call[];
}

const call = (principal: Principal, action: string, resource: string, why: string, context: Call["context"] = {}): Call => ({ principal, action, resource, why, context });

function resourcesOf(stack: RenderedStack, type: string) {
  return stack.resources().filter((r) => r.type === type);
}

function githubRole(model: AccountModel, bootstrap: RenderedStack, name: string, label: string): Principal {
  const role = resourcesOf(bootstrap, "aws_iam_role").find((r) => r.config.name === name);
  if (!role) throw new Error(`${bootstrap.name} declares no role ${name}`);
  return model.role(bootstrap.arn(role.address), label);
}

/** The Terraform state object, its lock (unless -lock=false) and their bucket, as the S3 backend of the stack names them. */
function stateCalls(stack: RenderedStack, principal: Principal, write: boolean, lock = true): Call[] {
  const s3 = (stack.json.terraform as { backend?: { s3?: Record<string, unknown> } }).backend?.s3;
  if (!s3) return [];
  const object = `arn:${stack.account.partition}:s3:::${s3.bucket}/${s3.key}`;
  // The S3 backend sends x-amz-server-side-encryption: AES256 when `encrypt` is set without a key.
  const sse: Record<string, string> = s3.encrypt ? { "s3:x-amz-server-side-encryption": s3.kms_key_id ? "aws:kms" : "AES256" } : {};
  const why = `terraform ${write ? "apply" : "plan"} of ${stack.name} (S3 backend)`;
  return [
    call(principal, "s3:ListBucket", `arn:${stack.account.partition}:s3:::${s3.bucket}`, why),
    call(principal, "s3:GetObject", object, why),
    ...(lock
      ? [call(principal, "s3:GetObject", `${object}.tflock`, why), call(principal, "s3:PutObject", `${object}.tflock`, why, sse), call(principal, "s3:DeleteObject", `${object}.tflock`, why)]
      : []),
    ...(write ? [call(principal, "s3:PutObject", object, why, sse)] : []),
  ];
}

/** 1 and 7: the deploy role applies every resource of the stack, and runs the release CLI's calls. */
export function deployRole(model: AccountModel, bootstrap: RenderedStack, stack: RenderedStack, config: EnvironmentConfig): Rehearsal {
  const principal = githubRole(model, bootstrap, resourceNames.githubRole(namePrefix(config.name), "deploy"), `deploy role (${config.name})`);
  return {
    allow: [...stateCalls(stack, principal, true), ...providerCallsOf(model, stack, principal, ["create", "read", "update", "delete"]), ...releaseCliCalls(stack, principal, bootstrap), ...verifierRoleCalls(principal, config)],
    // The verifier's client secret is for the verify task alone: the role that starts the task never reads it.
    deny: config.auth ? [call(principal, "secretsmanager:GetSecretValue", config.auth.verifier.clientSecretArn, "the deploy role reading the verifier's client secret")] : [],
  };
}

/** The AWS calls of release/aws.ts, on the resources the stack names. */
function releaseCliCalls(stack: RenderedStack, principal: Principal, bootstrap: RenderedStack): Call[] {
  const why = (what: string) => `release CLI: ${what} (release/aws.ts)`;
  const repositories = resourcesOf(bootstrap, "aws_ecr_repository").map((r) => bootstrap.arn(r.address));
  const services = resourcesOf(stack, "aws_ecs_service");
  const targets = resourcesOf(stack, "aws_appautoscaling_target");
  const alarms = resourcesOf(stack, "aws_cloudwatch_composite_alarm");
  const [cluster] = resourcesOf(stack, "aws_ecs_cluster").map((c) => stack.arn(c.address));
  const inCluster = { "ecs:cluster": cluster! };
  const verifyTask = `${cluster!.replace(":cluster/", ":task/")}/0123456789abcdef0123456789abcdef`;
  const passedToTasks = { "iam:PassedToService": "ecs-tasks.amazonaws.com" };
  const verify = (what: string) => why(`in-VPC verify: ${what}`);
  return [
    call(principal, "elasticloadbalancing:DescribeLoadBalancers", "*", why("find the load balancer")),
    call(principal, "elasticloadbalancing:DescribeListeners", "*", why("read listener weights")),
    call(principal, "elasticloadbalancing:DescribeTargetGroups", "*", why("find the target groups")),
    call(principal, "elasticloadbalancing:DescribeTargetHealth", "*", why("wait for healthy targets")),
    call(principal, "application-autoscaling:DescribeScalableTargets", "*", why("read the capacity")),
    call(principal, "ecs:DescribeTaskDefinition", "*", why("read the running version")),
    ...targets.map((t) => call(principal, "application-autoscaling:RegisterScalableTarget", stack.arn(t.address), why("raise the minimum before a shift"), resourceTags(stack, t.address))),
    ...services.flatMap((s) => [
      call(principal, "ecs:UpdateService", stack.arn(s.address), why("scale a colour"), resourceTags(stack, s.address)),
      call(principal, "ecs:DescribeServices", stack.arn(s.address), why("wait for a colour's deployment"), resourceTags(stack, s.address)),
    ]),
    ...alarms.map((a) => call(principal, "cloudwatch:DescribeAlarms", stack.arn(a.address), why("bake: watch the colour's alarm"))),
    ...resourcesOf(stack, "aws_lb_listener").map((l) => call(principal, "elasticloadbalancing:ModifyListener", stack.arn(l.address), why("fast rollback: move the traffic before the apply"), resourceTags(stack, l.address))),
    ...resourcesOf(stack, "aws_ecs_task_definition").flatMap((t) => [
      call(principal, "ecs:RunTask", stack.arn(t.address), verify("run the candidate's task definition"), { ...inCluster, ...resourceTags(stack, t.address) }),
      ...["task_role_arn", "execution_role_arn"].map((role) => call(principal, "iam:PassRole", String(stack.attribute(`${t.address}.${role}`)), verify(`pass the task definition's ${role}`), passedToTasks)),
    ]),
    call(principal, "ecs:DescribeTasks", verifyTask, verify("wait for the task"), inCluster),
    call(principal, "ecs:StopTask", verifyTask, verify("stop a task that timed out"), inCluster),
    ...resourcesOf(stack, "aws_cloudwatch_log_group")
      .map((g) => ({ arn: stack.arn(g.address), name: String(stack.attribute(`${g.address}.name`)) }))
      .filter((g) => /^\/ecs\/[^/]+\/(blue|green)$/.test(g.name))
      .map((g) => call(principal, "logs:GetLogEvents", `${g.arn}:log-stream:${g.name.split("/").pop()}/mcp-server/0123456789abcdef`, verify("read the task's log lines"))),
    ...repositories.flatMap((r) => [
      call(principal, "ecr:BatchGetImage", r, why("read a deployed image's manifest")),
      call(principal, "ecr:PutImage", r, why("tag a deployed image so the lifecycle policy keeps it")),
    ]),
  ];
}

/** With JWT auth, the verify task runs as the role the CLI names (release/commands/verify.ts): the deploy role passes it. */
function verifierRoleCalls(principal: Principal, config: EnvironmentConfig): Call[] {
  const { taskRoleArn } = verifierClient(config);
  return taskRoleArn ? [call(principal, "iam:PassRole", taskRoleArn, "release CLI: in-VPC verify: run the task as the verifier role", { "iam:PassedToService": "ecs-tasks.amazonaws.com" })] : [];
}

const resourceTags = (stack: RenderedStack, address: string) => tagContext(stack.tagsOf(address), "aws:ResourceTag");

/**
 * 2: the plan role reads what a refreshing plan reads and writes nothing: pull requests plan with
 * -lock=false, so they never hold the lock a release waits for. It must be refused every change
 * the deploy role may make, the state object and its lock, and any secret's value.
 */
export function planRole(model: AccountModel, bootstrap: RenderedStack, stack: RenderedStack, config: EnvironmentConfig): Rehearsal {
  const principal = githubRole(model, bootstrap, resourceNames.githubRole(namePrefix(config.name), "plan"), `plan role (${config.name})`);
  const reads = providerCallsOf(model, stack, principal, ["read"]);
  const revealsSecret = (c: Call) => c.action === "secretsmanager:GetSecretValue";
  const changes = providerCallsOf(model, stack, principal, ["create", "update", "delete"]).filter((c) => !isReadOnly(c.action));
  const state = stateCalls(stack, principal, true);
  const { partition, region, accountId } = stack.account;
  const anySecret = `arn:${partition}:secretsmanager:${region}:${accountId}:secret:any-secret-AbCdEf`;
  // The explicit Deny must hold whatever is granted later: the same role with secretsmanager:* attached.
  const widened: Principal = {
    ...principal,
    label: `${principal.label} with secretsmanager:* attached`,
    identityPolicies: [...principal.identityPolicies, { name: "later-grant", policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }] } }],
  };
  return {
    allow: [...stateCalls(stack, principal, false, false), ...reads.filter((c) => !revealsSecret(c))],
    deny: [
      ...reads.filter(revealsSecret),
      // Any secret of the account, whether this stack declares it or another team adds it later.
      ...[...resourcesOf(stack, "aws_secretsmanager_secret").map((s) => stack.arn(s.address)), anySecret].flatMap((arn) =>
        [principal, widened].map((p) => call(p, "secretsmanager:GetSecretValue", arn, `a pull request reading ${arn}`)),
      ),
      ...state.filter((c) => c.action === "s3:PutObject"),
      ...changes,
    ],
  };
}

const isReadOnly = (action: string) => /^[a-z0-9-]+:(Describe|Get|List|Head)/.test(action);

/** 3: the image role pushes one image to the repository, and nothing else. */
export function imageRole(model: AccountModel, bootstrap: RenderedStack): Rehearsal {
  const principal = githubRole(model, bootstrap, "github-mcp-image-push", "image role");
  const repository = resourcesOf(bootstrap, "aws_ecr_repository")[0];
  const repo = bootstrap.arn(repository.address);
  const why = "docker push of the server image";
  const push = ["ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage"];
  const { partition, region, accountId } = bootstrap.account;
  return {
    allow: [call(principal, "ecr:GetAuthorizationToken", "*", why), ...push.map((a) => call(principal, a, repo, why))],
    deny: [
      call(principal, "ecr:DeleteRepository", repo, "the image role deleting the repository"),
      call(principal, "ecr:PutLifecyclePolicy", repo, "the image role changing what expires"),
      call(principal, "ecr:BatchDeleteImage", repo, "the image role deleting a released image"),
      call(principal, "ecr:PutImage", `arn:${partition}:ecr:${region}:${accountId}:repository/another-repository`, "the image role pushing elsewhere"),
    ],
  };
}

interface ContainerDefinition {
  name: string;
  image: string;
  logConfiguration?: { logDriver: string; options: Record<string, string> };
  secrets?: { name: string; valueFrom: string }[];
  environment?: { name: string; value: string }[];
}

function taskDefinitions(stack: RenderedStack) {
  return resourcesOf(stack, "aws_ecs_task_definition").map((t) => ({
    address: t.address,
    family: String(t.config.family),
    executionRole: String(t.config.execution_role_arn),
    taskRole: String(t.config.task_role_arn),
    containers: JSON.parse(String(t.config.container_definitions)) as ContainerDefinition[],
  }));
}

/** 4: each execution role starts every container of its task: logs, secrets, private images. */
export function executionRoles(model: AccountModel, stack: RenderedStack): Rehearsal {
  const { partition, region, accountId } = stack.account;
  const allow: Call[] = [];
  for (const task of taskDefinitions(stack)) {
    const principal = model.role(task.executionRole, `execution role (${task.family})`);
    for (const container of task.containers) {
      const why = `start container ${container.name} of ${task.family}`;
      const log = container.logConfiguration;
      if (log?.logDriver === "awslogs") {
        const group = `arn:${partition}:logs:${log.options["awslogs-region"]}:${accountId}:log-group:${log.options["awslogs-group"]}`;
        const stream = `${group}:log-stream:${log.options["awslogs-stream-prefix"]}/${container.name}/0123456789abcdef0123456789abcdef`;
        allow.push(call(principal, "logs:CreateLogStream", stream, why), call(principal, "logs:PutLogEvents", stream, why));
      }
      for (const secret of container.secrets ?? []) {
        allow.push(call(principal, "secretsmanager:GetSecretValue", secret.valueFrom, `${why}: secret ${secret.name}`));
        const found = model.find(secret.valueFrom);
        const keyId = found ? found.stack.config(found.address).kms_key_id : undefined;
        if (keyId) allow.push(call(principal, "kms:Decrypt", String(keyId), `${why}: secret ${secret.name}`, { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` }));
      }
      const ecr = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^@:]+)/.exec(container.image);
      if (ecr) {
        const repo = `arn:${partition}:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`;
        allow.push(call(principal, "ecr:GetAuthorizationToken", "*", `${why}: pull ${container.image}`));
        for (const action of ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"]) allow.push(call(principal, action, repo, `${why}: pull ${container.image}`));
      }
    }
  }
  return { allow, deny: [] };
}

/**
 * 5: each task role makes what the containers call at run time: the server's IAM authentication to
 * Redis (from its environment), the collector's EMF log group (from its own configuration) and
 * X-Ray; ssmmessages when ECS Exec is on.
 */
export function taskRoles(model: AccountModel, stack: RenderedStack, config: EnvironmentConfig): Rehearsal {
  const { partition, region, accountId } = stack.account;
  const allow: Call[] = [];
  const deny: Call[] = [];
  for (const task of taskDefinitions(stack)) {
    const principal = model.role(task.taskRole, `task role (${task.family})`);
    for (const container of task.containers) {
      const env = (name: string) => container.environment?.find((e) => e.name === name)?.value;
      const [cacheUser, cacheId] = [env("REDIS_IAM_USER"), env("REDIS_IAM_CACHE_ID")];
      if (cacheUser && cacheId) {
        // ElastiCache authorizes an IAM AUTH against the replication group and the user, both.
        const why = `${container.name} of ${task.family} authenticating to Redis as ${cacheUser}`;
        const elasticache = (resource: string) => `arn:${partition}:elasticache:${env("AWS_REGION") ?? region}:${accountId}:${resource}`;
        allow.push(call(principal, "elasticache:Connect", elasticache(`replicationgroup:${cacheId}`), why), call(principal, "elasticache:Connect", elasticache(`user:${cacheUser}`), why));
        for (const user of resourcesOf(stack, "aws_elasticache_user").filter((u) => u.config.user_name === "default")) {
          deny.push(call(principal, "elasticache:Connect", stack.arn(user.address), `${container.name} of ${task.family} authenticating as the cache's default user`));
        }
      }
      const collectorConfig = env("AOT_CONFIG_CONTENT");
      if (!collectorConfig) continue;
      const why = `${container.name} of ${task.family} at run time`;
      const exporters = (parseYaml(collectorConfig) as { exporters?: Record<string, { log_group_name?: string }> }).exporters ?? {};
      for (const exporter of Object.values(exporters)) {
        if (!exporter?.log_group_name) continue;
        const group = `arn:${partition}:logs:${region}:${accountId}:log-group:${exporter.log_group_name}`;
        allow.push(call(principal, "logs:DescribeLogStreams", group, why), call(principal, "logs:CreateLogStream", `${group}:log-stream:otel-stream`, why), call(principal, "logs:PutLogEvents", `${group}:log-stream:otel-stream`, why));
      }
      for (const action of ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]) allow.push(call(principal, action, "*", why));
    }
    const exec = ["ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"].map((a) => call(principal, a, "*", `ECS Exec into ${task.family}`));
    (config.service.enableExecuteCommand ? allow : deny).push(...exec);
    // Whatever its policy says, a task may not read the environment's state or change IAM.
    deny.push(call(principal, "iam:CreateRole", `arn:${partition}:iam::${accountId}:role/${task.family}-escalate`, "a task creating a role"));
  }
  const { taskRoleArn: verifierArn } = verifierClient(config);
  if (verifierArn) {
    // The verifier role, the one the CLI names, reads the OAuth client secret; no role that serves traffic can.
    const secret = config.auth!.verifier.clientSecretArn;
    allow.push(call(model.role(verifierArn, `verifier role (${config.name})`), "secretsmanager:GetSecretValue", secret, "the verify task taking its OAuth client secret"));
    for (const task of taskDefinitions(stack)) {
      for (const [role, label] of [[task.taskRole, "task"], [task.executionRole, "execution"]] as const) {
        deny.push(call(model.role(role, `${label} role (${task.family})`), "secretsmanager:GetSecretValue", secret, `${task.family}'s ${label} role reading the verifier's client secret`));
      }
    }
  }
  return { allow, deny };
}

const service = (name: string): Principal => ({ label: name, arn: name, identityPolicies: [] });

/**
 * 6: services acting on the stack's resources through resource policies: CloudWatch alarms
 * publishing to the encrypted topic, ELB writing access logs, VPC flow logs through their role.
 */
export function servicePrincipals(model: AccountModel, stack: RenderedStack): Rehearsal {
  const { partition, region, accountId } = stack.account;
  const allow: Call[] = [];
  const cloudwatch = service("cloudwatch.amazonaws.com");
  const alarms = [...resourcesOf(stack, "aws_cloudwatch_metric_alarm"), ...resourcesOf(stack, "aws_cloudwatch_composite_alarm")];
  for (const alarm of alarms) {
    const source = { "aws:SourceArn": stack.arn(alarm.address), "aws:SourceAccount": accountId };
    for (const topic of ((alarm.config.alarm_actions ?? []) as string[]).filter((a) => a.includes(":sns:"))) {
      const why = `alarm ${alarm.config.alarm_name} notifying`;
      allow.push(call(cloudwatch, "sns:Publish", topic, why, source));
      const found = model.find(topic);
      const keyRef = found ? found.stack.config(found.address).kms_master_key_id : undefined;
      if (keyRef) {
        const key = String(keyRef).startsWith("arn:") ? String(keyRef) : `arn:${partition}:kms:${region}:${accountId}:key/${keyRef}`;
        for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) allow.push(call(cloudwatch, action, key, `${why} (encrypted topic)`, source));
      }
    }
  }
  for (const lb of resourcesOf(stack, "aws_lb")) {
    const logs = (lb.config.access_logs as { bucket: string; prefix?: string; enabled?: boolean }[] | undefined)?.[0];
    if (!logs?.enabled) continue;
    const object = `arn:${partition}:s3:::${logs.bucket}/${logs.prefix ? `${logs.prefix}/` : ""}AWSLogs/${accountId}/elasticloadbalancing/${region}/2026/12/02/log.gz`;
    allow.push(call(service("logdelivery.elasticloadbalancing.amazonaws.com"), "s3:PutObject", object, `access logs of ${lb.config.name}`, { "aws:SourceAccount": accountId, "aws:SourceArn": stack.arn(lb.address) }));
  }
  for (const flowLog of resourcesOf(stack, "aws_flow_log")) {
    const roleArn = String(flowLog.config.iam_role_arn);
    const why = `flow log ${flowLog.address}`;
    allow.push(call(service("vpc-flow-logs.amazonaws.com"), "sts:AssumeRole", roleArn, why, { "aws:SourceAccount": accountId, "aws:SourceArn": stack.arn(flowLog.address) }));
    const role = model.role(roleArn, `flow-logs role (${stack.name})`);
    const group = String(flowLog.config.log_destination);
    for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"]) allow.push(call(role, action, `${group}:log-stream:eni-0123456789abcdef0-all`, why));
    allow.push(call(role, "logs:DescribeLogStreams", group, why));
  }
  // CloudWatch Logs encrypting and reading each log group with its key: the encryption context names the group.
  const logs = service(`logs.${region}.amazonaws.com`);
  const deny: Call[] = [];
  for (const group of resourcesOf(stack, "aws_cloudwatch_log_group").filter((g) => g.config.kms_key_id)) {
    const name = String(group.config.name);
    const key = String(group.config.kms_key_id);
    const context = (logGroup: string) => ({ "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${region}:${accountId}:log-group:${logGroup}` });
    for (const action of ["kms:GenerateDataKey", "kms:Decrypt", "kms:Encrypt", "kms:DescribeKey"]) allow.push(call(logs, action, key, `CloudWatch Logs using the key for ${name}`, context(name)));
    // The same key for a log group the environment does not own: another team's, or one added by hand.
    deny.push(call(logs, "kms:Decrypt", key, `CloudWatch Logs using ${name}'s key for a foreign log group`, context(`/ecs/not-${name.replace(/^\//, "")}`)));
  }
  for (const td of taskDefinitions(stack)) {
    for (const roleArn of [td.executionRole, td.taskRole]) {
      allow.push(call(service("ecs-tasks.amazonaws.com"), "sts:AssumeRole", roleArn, `ECS starting ${td.family}`, { "aws:SourceAccount": accountId }));
    }
  }
  for (const role of resourcesOf(stack, "aws_iam_role").filter((r) => r.config.name === resourceNames.verifierRole(namePrefix(stack.name)))) {
    allow.push(call(service("ecs-tasks.amazonaws.com"), "sts:AssumeRole", stack.arn(role.address), "ECS starting a verify task as the verifier role", { "aws:SourceAccount": accountId }));
  }
  return { allow, deny };
}
