import { main } from "../../release/cli";
import { cliHarness, DIGEST_B, editConfig, settledManifest } from "./support";

/** green carries 1.4.0 at 0%: the candidate the test listener reaches. */
const deployed = () => settledManifest({ green: { image: DIGEST_B, version: "1.4.0" } });
const URL = "http://mcp-staging-123.eu-west-1.elb.amazonaws.com:8443/mcp";

let harness: ReturnType<typeof cliHarness>;
afterEach(() => harness?.config.remove());
const release = (...argv: string[]) => main(argv, harness.deps);

describe("release verify, from a one-off task in the VPC", () => {
  it("runs the image's verify entry point from the candidate's task definition against the test listener, and shows its log lines", async () => {
    harness = cliHarness(deployed());
    expect(await release("verify", "--env", "staging")).toBe(0);
    expect(harness.err).toEqual([]);
    expect(harness.aws.verifyTasks).toEqual([{ color: "green", command: ["node", "/app/dist/verify.js", URL] }]);
    expect(harness.out).toEqual([
      `12:00:00Z verify in the VPC: a one-off green task checks ${URL} (expecting green 1.4.0; up to 300 s)`,
      '  | {"level":"info","msg":"verify: passed"}',
      "12:00:05Z verify: passed in the VPC (task 00000000000000000000000000000001): initialize, tools/list, server_info all green 1.4.0",
    ]);
  });

  it("fails on a non-zero exit, with ECS's reason and the task's own lines", async () => {
    harness = cliHarness(deployed());
    harness.aws.verifyRun = {
      states: [{ status: "STOPPED", exitCode: 1, reason: "Essential container in task exited" }],
      logs: ['{"level":"error","msg":"verify: failed: server_info answered green 1.3.0, expected green 1.4.0"}'],
    };
    expect(await release("verify", "--env", "staging")).toBe(1);
    expect(harness.out).toContain('  | {"level":"error","msg":"verify: failed: server_info answered green 1.3.0, expected green 1.4.0"}');
    expect(harness.err).toEqual([
      "error: verify task 00000000000000000000000000000001 exited 1 (Essential container in task exited); its log lines are above; production traffic is unaffected",
    ]);
  });

  it("says so when the task stopped before its check ran", async () => {
    harness = cliHarness(deployed());
    harness.aws.verifyRun = { states: [{ status: "PROVISIONING" }, { status: "STOPPED", reason: "CannotPullContainerError: pull access denied" }], logs: [] };
    expect(await release("verify", "--env", "staging")).toBe(1);
    expect(harness.err).toEqual([
      "error: verify task 00000000000000000000000000000001 stopped before the check ran (CannotPullContainerError: pull access denied); it wrote no log lines; production traffic is unaffected",
    ]);
  });

  it("stops a task that gives no result within release.verifyTimeoutSeconds, and says what to check", async () => {
    harness = cliHarness(deployed());
    harness.aws.verifyRun = { states: [{ status: "PENDING" }], logs: [] };
    expect(await release("verify", "--env", "staging")).toBe(1);
    expect(harness.clock.elapsedSeconds).toBe(300);
    expect(harness.aws.stoppedVerifyTasks).toHaveLength(1);
    expect(harness.err[0]).toMatch(/^error: verify task 0+1 gave no result within 300 s \(last status PENDING\) and was stopped; check that the private subnets reach ECR and the NAT gateways, or raise release.verifyTimeoutSeconds$/);
  });

  it("refuses to put MCP_VERIFY_TOKEN in a task's overrides, pointing at --from-here", async () => {
    harness = cliHarness(deployed());
    process.env.MCP_VERIFY_TOKEN = "secret-token";
    try {
      expect(await release("verify", "--env", "staging")).toBe(1);
    } finally {
      delete process.env.MCP_VERIFY_TOKEN;
    }
    expect(harness.aws.verifyTasks).toEqual([]);
    expect(harness.err[0]).toMatch(/MCP_VERIFY_TOKEN is set, .*; verify with --from-here$/);
  });

  it("with JWT auth, runs the task as the verifier role and names the OAuth client, never its secret", async () => {
    harness = cliHarness(deployed());
    let account = "";
    editConfig(harness.config.dir, (staging) => {
      account = staging.aws.accountId;
      staging.loadBalancer.certificateArn = "arn:aws:acm:eu-west-1:111111111111:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b";
      staging.loadBalancer.hostName = "mcp-staging.example.com";
      staging.auth = {
        issuer: "https://login.example.com/",
        audience: "https://mcp-staging.example.com/mcp",
        jwksUrl: "https://login.example.com/.well-known/jwks.json",
        requiredScopes: ["mcp:tools"],
        verifier: { clientId: "verify-client", clientSecretArn: `arn:aws:secretsmanager:eu-west-1:${account}:secret:mcp-staging/verify-client-AbCdEf` },
      };
    });
    const code = await release("verify", "--env", "staging");
    expect(harness.err).toEqual([]);
    expect(code).toBe(0);
    expect(harness.aws.verifyTasks).toEqual([
      {
        color: "green",
        command: ["node", "/app/dist/verify.js", "https://mcp-staging.example.com:8443/mcp"],
        taskRoleArn: `arn:aws:iam::${account}:role/mcp-staging-verifier`,
        environment: {
          MCP_VERIFY_ISSUER: "https://login.example.com/",
          MCP_VERIFY_CLIENT_ID: "verify-client",
          MCP_VERIFY_CLIENT_SECRET_ARN: `arn:aws:secretsmanager:eu-west-1:${account}:secret:mcp-staging/verify-client-AbCdEf`,
          MCP_VERIFY_SCOPE: "mcp:tools",
        },
      },
    ]);
  });

  it("runs after deploy's healthy wait, so a failing task fails the deploy with traffic unaffected", async () => {
    harness = cliHarness(settledManifest());
    harness.aws.verifyRun = { states: [{ status: "STOPPED", exitCode: 1 }], logs: [] };
    expect(await release("deploy", "--env", "staging", "--image", DIGEST_B, "--version", "1.4.0")).toBe(1);
    expect(harness.aws.verifyTasks.map((t) => t.color)).toEqual(["green"]);
    expect(harness.applier.live?.colors.blue.weight).toBe(100);
  });
});
