import { ApplicationAutoScalingClient, DescribeScalableTargetsCommand, RegisterScalableTargetCommand } from "@aws-sdk/client-application-auto-scaling";
import { CloudWatchClient, DescribeAlarmsCommand } from "@aws-sdk/client-cloudwatch";
import { BatchGetImageCommand, ECRClient, ImageAlreadyExistsException, PutImageCommand } from "@aws-sdk/client-ecr";
import { CloudWatchLogsClient, GetLogEventsCommand, ResourceNotFoundException } from "@aws-sdk/client-cloudwatch-logs";
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand, UpdateServiceCommand } from "@aws-sdk/client-ecs";
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { mockClient } from "aws-sdk-client-mock";
import { awsClients, SdkReleaseAws } from "../../release/aws";
import { AwsError } from "../../release/errors";
import { ACCOUNT, DIGEST_A, DIGEST_B } from "./support";

const elb = mockClient(ElasticLoadBalancingV2Client);
const ecs = mockClient(ECSClient);
const cloudwatch = mockClient(CloudWatchClient);
const autoscaling = mockClient(ApplicationAutoScalingClient);
const ecr = mockClient(ECRClient);
const logs = mockClient(CloudWatchLogsClient);

const TG = {
  blue: "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/mcp-staging-blue/1",
  green: "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/mcp-staging-green/2",
};
const LB = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/mcp-staging/3";

function adapter() {
  return new SdkReleaseAws("staging", awsClients("eu-west-1"));
}

beforeEach(() => {
  for (const mock of [elb, ecs, cloudwatch, autoscaling, ecr, logs]) mock.reset();
  elb.on(DescribeTargetGroupsCommand, { Names: ["mcp-staging-blue", "mcp-staging-green"] }).resolves({
    TargetGroups: [
      { TargetGroupName: "mcp-staging-blue", TargetGroupArn: TG.blue },
      { TargetGroupName: "mcp-staging-green", TargetGroupArn: TG.green },
    ],
  });
  elb.on(DescribeLoadBalancersCommand, { Names: ["mcp-staging"] }).resolves({ LoadBalancers: [{ LoadBalancerArn: LB, DNSName: "mcp-staging-1.eu-west-1.elb.amazonaws.com" }] });
  ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: "td-green:7" }).resolves({
    taskDefinition: {
      cpu: "512",
      memory: "1024",
      containerDefinitions: [{ name: "otel-collector", image: "otel:0.1" }, { name: "mcp-server", image: DIGEST_B, environment: [{ name: "LOG_LEVEL", value: "info" }] }],
    },
  });
  ecs.on(DescribeTaskDefinitionCommand, { taskDefinition: "td-green:6" }).resolves({ taskDefinition: { containerDefinitions: [{ name: "mcp-server", image: DIGEST_A }] } });
  cloudwatch.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [{ AlarmName: "mcp-staging-green-unhealthy", StateValue: "OK" }], MetricAlarms: [] });
  elb.on(DescribeTargetHealthCommand).resolves({ TargetHealthDescriptions: [] });
});

describe("SdkReleaseAws", () => {
  it("observes a colour: the server container's image and task settings of the primary deployment, task counts, target health and the composite alarm", async () => {
    ecs.on(DescribeServicesCommand, { cluster: "mcp-staging", services: ["mcp-staging-green"] }).resolves({
      services: [
        {
          status: "ACTIVE",
          runningCount: 3,
          desiredCount: 4,
          deployments: [
            { status: "PRIMARY", taskDefinition: "td-green:7", rolloutState: "IN_PROGRESS", rolloutStateReason: "ECS deployment ecs-svc/1 in progress." },
            { status: "ACTIVE", taskDefinition: "td-green:6", rolloutState: "COMPLETED" },
          ],
        },
      ],
    });
    elb.on(DescribeTargetHealthCommand, { TargetGroupArn: TG.green }).resolves({
      TargetHealthDescriptions: [
        { Target: { Id: "10.0.1.1" }, TargetHealth: { State: "healthy" } },
        { Target: { Id: "10.0.1.2" }, TargetHealth: { State: "healthy" } },
        { Target: { Id: "10.0.1.3" }, TargetHealth: { State: "initial", Reason: "Elb.RegistrationInProgress" } },
        { Target: { Id: "10.0.1.4" }, TargetHealth: { State: "unhealthy", Reason: "Target.ResponseCodeMismatch" } },
        { Target: { Id: "10.0.1.5" }, TargetHealth: { State: "draining", Reason: "Target.DeregistrationInProgress" } },
      ],
    });
    cloudwatch.on(DescribeAlarmsCommand, { AlarmNames: ["mcp-staging-green-unhealthy"], AlarmTypes: ["CompositeAlarm", "MetricAlarm"] }).resolves({
      CompositeAlarms: [{ AlarmName: "mcp-staging-green-unhealthy", StateValue: "ALARM" }],
    });

    expect(await adapter().observe("green")).toEqual({
      runningImage: DIGEST_B,
      runningTask: { cpu: 512, memory: 1024, environment: { LOG_LEVEL: "info" } },
      rollout: "in-progress",
      rolloutReason: "ECS deployment ecs-svc/1 in progress.",
      runningTasks: 3,
      desiredTasks: 4,
      targets: {
        healthy: 2,
        starting: 1,
        unhealthy: 1,
        draining: 1,
        reasons: ["10.0.1.3: initial (Elb.RegistrationInProgress)", "10.0.1.4: unhealthy (Target.ResponseCodeMismatch)"],
      },
      alarm: "ALARM",
    });
  });

  it("reports a deployment the circuit breaker failed, with its reason", async () => {
    ecs.on(DescribeServicesCommand).resolves({
      services: [
        {
          status: "ACTIVE",
          runningCount: 2,
          desiredCount: 2,
          deployments: [
            { status: "PRIMARY", taskDefinition: "td-green:6", rolloutState: "IN_PROGRESS" },
            { status: "ACTIVE", taskDefinition: "td-green:7", rolloutState: "FAILED", rolloutStateReason: "ECS deployment circuit breaker: tasks failed to start." },
          ],
        },
      ],
    });
    const seen = await adapter().observe("green");
    expect(seen).toMatchObject({ runningImage: DIGEST_A, rollout: "failed", rolloutReason: "ECS deployment circuit breaker: tasks failed to start." });
  });

  it("reports a missing service and a missing alarm rather than failing", async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [], failures: [{ reason: "MISSING" }] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ CompositeAlarms: [], MetricAlarms: [] });
    const seen = await adapter().observe("blue");
    expect(seen).toMatchObject({ rollout: "missing", runningTasks: 0, alarm: "MISSING" });
    expect(seen.runningImage).toBeUndefined();
  });

  it("reads the production listener's weights and the colour behind the test listener", async () => {
    elb.on(DescribeListenersCommand, { LoadBalancerArn: LB }).resolves({
      Listeners: [
        { Port: 80, DefaultActions: [{ Type: "redirect" }] },
        {
          Port: 443,
          DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG.blue, Weight: 90 }, { TargetGroupArn: TG.green, Weight: 10 }] } }],
        },
        {
          Port: 8443,
          DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG.blue, Weight: 0 }, { TargetGroupArn: TG.green, Weight: 100 }] } }],
        },
      ],
    });
    expect(await adapter().listeners(443, 8443)).toEqual({ production: { blue: 90, green: 10 }, test: "green" });
  });

  it("raises the autoscaling minimum when the colour has a scalable target, keeping its maximum", async () => {
    autoscaling
      .on(DescribeScalableTargetsCommand, { ServiceNamespace: "ecs", ResourceIds: ["service/mcp-staging/mcp-staging-green"], ScalableDimension: "ecs:service:DesiredCount" })
      .resolves({ ScalableTargets: [{ MinCapacity: 1, MaxCapacity: 10 } as never] });
    autoscaling.on(RegisterScalableTargetCommand).resolves({});

    expect(await adapter().setTaskFloor("green", 4)).toBe("green: autoscaling minimum 1 -> 4");
    expect(autoscaling.commandCalls(RegisterScalableTargetCommand)[0].args[0].input).toEqual({
      ServiceNamespace: "ecs",
      ResourceId: "service/mcp-staging/mcp-staging-green",
      ScalableDimension: "ecs:service:DesiredCount",
      MinCapacity: 4,
      MaxCapacity: 10,
    });
    expect(ecs.commandCalls(UpdateServiceCommand)).toHaveLength(0);
  });

  it("sets the service's desired count when the colour has no autoscaling target", async () => {
    autoscaling.on(DescribeScalableTargetsCommand).resolves({ ScalableTargets: [] });
    ecs.on(DescribeServicesCommand).resolves({ services: [{ status: "ACTIVE", runningCount: 1, desiredCount: 1, deployments: [] }] });
    ecs.on(UpdateServiceCommand).resolves({});

    expect(await adapter().setTaskFloor("green", 3)).toBe("green: desired count 1 -> 3 (no autoscaling target)");
    expect(ecs.commandCalls(UpdateServiceCommand)[0].args[0].input).toEqual({ cluster: "mcp-staging", service: "mcp-staging-green", desiredCount: 3 });
  });

  it("turns an SDK failure into an AwsError naming the call, so the CLI prints one line", async () => {
    const denied = Object.assign(new Error("User is not authorized to perform: ecs:DescribeServices"), { name: "AccessDeniedException" });
    ecs.on(DescribeServicesCommand).rejects(denied);
    const failure = adapter().observe("green");
    await expect(failure).rejects.toBeInstanceOf(AwsError);
    await expect(failure).rejects.toThrow("AWS ecs:DescribeServices failed: AccessDeniedException: User is not authorized to perform: ecs:DescribeServices");
  });

  it("says to apply the stack first when the target groups do not exist", async () => {
    elb.on(DescribeTargetGroupsCommand).resolves({ TargetGroups: [] });
    ecs.on(DescribeServicesCommand).resolves({ services: [] });
    await expect(adapter().observe("green")).rejects.toThrow("AWS elbv2:DescribeTargetGroups failed: no target group mcp-staging-blue; apply the stack first");
  });
});

describe("SdkReleaseAws.protectImage", () => {
  const manifest = '{"schemaVersion":2}';
  const digest = `sha256:${"a".repeat(64)}`;

  it("tags the image by its digest with the released-image tag, whose prefix the lifecycle policy keeps", async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageManifest: manifest, imageManifestMediaType: "application/vnd.oci.image.manifest.v1+json" }],
    });
    ecr.on(PutImageCommand).resolves({});
    expect(await adapter().protectImage(DIGEST_A)).toMatch(/tagged release-aaaaaaaaaaaa: kept by the lifecycle policy/);
    expect(ecr.commandCalls(BatchGetImageCommand)[0]!.args[0].input).toEqual({ registryId: ACCOUNT, repositoryName: "mcp-server", imageIds: [{ imageDigest: digest }] });
    expect(ecr.commandCalls(PutImageCommand)[0]!.args[0].input).toEqual({
      registryId: ACCOUNT,
      repositoryName: "mcp-server",
      imageManifest: manifest,
      imageManifestMediaType: "application/vnd.oci.image.manifest.v1+json",
      imageDigest: digest,
      imageTag: "release-aaaaaaaaaaaa",
    });
  });

  it("takes an image that carries the tag already (deployed before) as protected", async () => {
    ecr.on(BatchGetImageCommand).resolves({ images: [{ imageManifest: manifest }] });
    ecr.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ message: "Image with digest and tag already exists", $metadata: {} }));
    await expect(adapter().protectImage(DIGEST_A)).resolves.toMatch(/release-aaaaaaaaaaaa/);
  });

  it("names a missing image, and does nothing for an image that is not pinned by digest in ECR", async () => {
    ecr.on(BatchGetImageCommand).resolves({ images: [], failures: [{ failureCode: "ImageNotFound" }] });
    await expect(adapter().protectImage(DIGEST_A)).rejects.toThrow(/no image sha256:a{64} in mcp-server; push it first/);
    expect(await adapter().protectImage("ghcr.io/acme/mcp:1.0")).toMatch(/not an ECR image pinned by digest/);
    expect(ecr.commandCalls(PutImageCommand)).toHaveLength(0);
  });
});

describe("SdkReleaseAws.moveTraffic, the fast rollback's one call", () => {
  const LISTENER = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/mcp-staging/3/443";

  it("after prepareTrafficMove, moves the production listener's weights with one ModifyListener call", async () => {
    elb.on(DescribeListenersCommand, { LoadBalancerArn: LB }).resolves({ Listeners: [{ Port: 443, ListenerArn: LISTENER }, { Port: 8443, ListenerArn: `${LISTENER}-test` }] });
    elb.on(ModifyListenerCommand).resolves({});
    const aws = adapter();
    await aws.prepareTrafficMove(443);
    const before = elb.calls().length;

    const decided = performance.now();
    expect(await aws.moveTraffic({ blue: 100, green: 0 })).toBe("production listener (port 443): blue 100%, green 0%, ahead of the apply");
    const movedMs = performance.now() - decided;

    const after = elb.calls().slice(before).map((c) => c.args[0].constructor.name);
    expect(after).toEqual(["ModifyListenerCommand"]);
    expect(elb.commandCalls(ModifyListenerCommand)[0]!.args[0].input).toEqual({
      ListenerArn: LISTENER,
      DefaultActions: [{ Type: "forward", ForwardConfig: { TargetGroups: [{ TargetGroupArn: TG.blue, Weight: 100 }, { TargetGroupArn: TG.green, Weight: 0 }] } }],
    });
    console.log(`fast rollback against the recording ELBv2 fake: ${after.length} AWS call from decision to traffic moved, ${movedMs.toFixed(1)} ms`);
  });

  it("refuses to move traffic it has not prepared for, rather than look the listener up after the decision", async () => {
    await expect(adapter().moveTraffic({ blue: 100, green: 0 })).rejects.toThrow(/prepareTrafficMove was not called/);
  });
});

describe("SdkReleaseAws verify tasks", () => {
  const TASK = "arn:aws:ecs:eu-west-1:111111111111:task/mcp-staging/0123456789abcdef";
  const network = { awsvpcConfiguration: { subnets: ["subnet-a", "subnet-b"], securityGroups: ["sg-green"], assignPublicIp: "DISABLED" as const } };

  it("runs one task from the colour's service: its task definition, network and launch type, the server container's command overridden", async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [{ status: "ACTIVE", taskDefinition: "td-green:7", networkConfiguration: network, launchType: "FARGATE", platformVersion: "LATEST" }] });
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
    expect(await adapter().startVerifyTask("green", { command: ["node", "/app/dist/verify.js", "http://lb:8443/mcp"] })).toBe(TASK);
    expect(ecs.commandCalls(DescribeServicesCommand)[0]!.args[0].input).toEqual({ cluster: "mcp-staging", services: ["mcp-staging-green"] });
    expect(ecs.commandCalls(RunTaskCommand)[0]!.args[0].input).toEqual({
      cluster: "mcp-staging",
      taskDefinition: "td-green:7",
      count: 1,
      launchType: "FARGATE",
      platformVersion: "LATEST",
      networkConfiguration: network,
      startedBy: "mcp-release-verify",
      overrides: { containerOverrides: [{ name: "mcp-server", command: ["node", "/app/dist/verify.js", "http://lb:8443/mcp"] }] },
    });
  });

  it("runs it as another task role with extra variables when asked (the verifier's, for JWT auth)", async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [{ status: "ACTIVE", taskDefinition: "td-green:7", networkConfiguration: network, launchType: "FARGATE" }] });
    ecs.on(RunTaskCommand).resolves({ tasks: [{ taskArn: TASK }] });
    const role = "arn:aws:iam::111111111111:role/mcp-staging-verifier";
    await adapter().startVerifyTask("green", { command: ["x"], taskRoleArn: role, environment: { MCP_VERIFY_CLIENT_ID: "c1" } });
    expect(ecs.commandCalls(RunTaskCommand)[0]!.args[0].input.overrides).toEqual({
      containerOverrides: [{ name: "mcp-server", command: ["x"], environment: [{ name: "MCP_VERIFY_CLIENT_ID", value: "c1" }] }],
      taskRoleArn: role,
    });
  });

  it("names RunTask's failures, and a missing service", async () => {
    ecs.on(DescribeServicesCommand).resolves({ services: [{ status: "ACTIVE", taskDefinition: "td-green:7", networkConfiguration: network }] });
    ecs.on(RunTaskCommand).resolves({ tasks: [], failures: [{ arn: "subnet-a", reason: "RESOURCE:ENI" }] });
    await expect(adapter().startVerifyTask("green", { command: ["x"] })).rejects.toThrow("AWS ecs:RunTask failed: subnet-a: RESOURCE:ENI");
    ecs.on(DescribeServicesCommand).resolves({ services: [] });
    await expect(adapter().startVerifyTask("green", { command: ["x"] })).rejects.toThrow("no service mcp-staging-green; apply the stack first");
  });

  it("reads the task's status, the server container's exit code and the stopped reasons", async () => {
    ecs.on(DescribeTasksCommand, { cluster: "mcp-staging", tasks: [TASK] }).resolves({
      tasks: [{ lastStatus: "STOPPED", stoppedReason: "Essential container in task exited", containers: [{ name: "otel-collector", exitCode: 0 }, { name: "mcp-server", exitCode: 1 }] }],
    });
    expect(await adapter().verifyTask(TASK)).toEqual({ status: "STOPPED", exitCode: 1, reason: "Essential container in task exited" });
  });

  it("reads the server container's awslogs stream, and no lines when the task never wrote one", async () => {
    logs.on(GetLogEventsCommand, { logGroupName: "/ecs/mcp-staging/green", logStreamName: "green/mcp-server/0123456789abcdef", startFromHead: true }).resolves({ events: [{ message: "a" }, { message: "b" }] });
    expect(await adapter().verifyTaskLogs("green", TASK)).toEqual(["a", "b"]);
    logs.on(GetLogEventsCommand).rejects(new ResourceNotFoundException({ message: "The specified log stream does not exist.", $metadata: {} }));
    expect(await adapter().verifyTaskLogs("green", TASK)).toEqual([]);
  });

  it("stops a task with the reason given", async () => {
    ecs.on(StopTaskCommand).resolves({});
    await adapter().stopVerifyTask(TASK, "release verify: no result within 300 s");
    expect(ecs.commandCalls(StopTaskCommand)[0]!.args[0].input).toEqual({ cluster: "mcp-staging", task: TASK, reason: "release verify: no result within 300 s" });
  });
});
