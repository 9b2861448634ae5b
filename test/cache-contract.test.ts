import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resourcesOf, synthStack, type TerraformJson } from "./support/fixtures";
import { exited, freePort, makeTlsFiles, SERVER, waitFor } from "./support/processes";

/*
 * The cache contract between the stack and the image, end to end on this machine: the built server,
 * started with the environment the staging task definition gives it, against a real TLS
 * redis-server holding the stack's ElastiCache users (their ids, names and access strings). So a
 * renamed variable, a user id the server does not send, or an access string too narrow for the
 * server's commands fails here. ElastiCache checks the IAM token itself and redis-server cannot,
 * so the client user takes any password ("nopass"); the rehearsal covers elasticache:Connect.
 */
const stack: TerraformJson = synthStack("staging");

/** `${aws_type.name.attr}` -> the literal the stack sets there, if it sets one. */
const literal = (value: string) =>
  value.replace(/\$\{(aws_[a-z_]+)\.([^.}]+)\.([a-z_]+)\}/g, (reference, type: string, name: string, attr: string) => {
    const set = resourcesOf(stack, type)[name]?.[attr];
    return typeof set === "string" ? set : reference;
  });

function serverEnvironment(): Record<string, string> {
  const [task] = Object.values(resourcesOf(stack, "aws_ecs_task_definition"));
  const containers = JSON.parse(String(task.container_definitions)) as { name: string; environment: { name: string; value: string }[] }[];
  const server = containers.find((c) => c.name === "mcp-server")!;
  return Object.fromEntries(server.environment.map((e) => [e.name, literal(e.value)]));
}

const describeIfBuilt = fs.existsSync(SERVER) ? describe : () => {
  throw new Error(`the cache contract needs the built server (${SERVER}): npm test builds it first`);
};

describeIfBuilt("the server as the task definition configures it, against the stack's cache users", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cache-contract-"));
  const children: ChildProcess[] = [];
  const users = Object.values(resourcesOf(stack, "aws_elasticache_user"));
  const client = users.find((u) => u.user_name !== "default")!;
  let port = 0;
  let logs = "";

  beforeAll(async () => {
    const tls = makeTlsFiles(dir);
    const redisPort = await freePort();
    const acl = users.map((u) => ["--user", String(u.user_name), ...String(u.access_string).split(" "), "nopass"]).flat();
    const redis = spawn("redis-server", ["--port", "0", "--tls-port", String(redisPort), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "no", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...acl], { stdio: "ignore" });
    children.push(redis);

    const upstream = await freePort();
    const origin = spawn(process.execPath, ["-e", `require("node:http").createServer((q, s) => s.end("from upstream " + q.url)).listen(${upstream}, "127.0.0.1")`], { stdio: "ignore" });
    children.push(origin);

    port = await freePort();
    const env = {
      ...serverEnvironment(),
      // What only AWS provides: the cache endpoint, the upstream, the collector, the load balancer's name and the task role's credentials.
      REDIS_URL: `rediss://localhost:${redisPort}`,
      UPSTREAM_URL: `http://127.0.0.1:${upstream}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: "",
      ALLOWED_HOSTS: "127.0.0.1",
      MCP_RESOURCE_URL: "https://mcp.example.com/mcp",
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      HOST: "127.0.0.1",
      DRAIN_DELAY_SECONDS: "0",
      STOP_TIMEOUT_SECONDS: "5",
      NODE_EXTRA_CA_CERTS: tls.ca,
      AWS_ACCESS_KEY_ID: "AKIAIOSFODNN7EXAMPLE",
      AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      PATH: process.env.PATH ?? "",
    };
    const server = spawn(process.execPath, [SERVER], { env, stdio: ["ignore", "pipe", "pipe"] });
    server.stdout!.on("data", (d: Buffer) => (logs += d.toString()));
    server.stderr!.on("data", (d: Buffer) => (logs += d.toString()));
    children.push(server);
    await waitFor("the server to be live", async () => (await fetch(`http://127.0.0.1:${port}/health/live`)).ok);
  }, 30_000);

  afterAll(async () => {
    for (const child of children.reverse()) {
      child.kill("SIGTERM");
      await exited(child);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const fetchTool = async (id: number) => {
    const response = await fetch(`http://127.0.0.1:${port}/mcp`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-11-25" },
      body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name: "cached_fetch", arguments: { path: "/contract" } } }),
    });
    // The answer may come as one server-sent event; its data line is the JSON-RPC response.
    const body = await response.text();
    const json = body.startsWith("{") ? body : body.split("\n").find((line) => line.startsWith("data: "))!.slice("data: ".length);
    return JSON.parse(json) as { result?: { structuredContent?: { cache?: string } } };
  };

  it("signs in to Redis as the stack's IAM user, over TLS", async () => {
    expect(client.authentication_mode).toEqual({ type: "iam" });
    await waitFor("readiness to report Redis pass", async () => {
      const ready = (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as { checks: Record<string, { status: string }[]> };
      return ready.checks["redis:responseTime"][0].status === "pass";
    });
    expect(logs).toContain('"redisAuth":"iam"');
  });

  it("caches within the user's access string", async () => {
    expect((await fetchTool(1)).result?.structuredContent?.cache).toBe("miss");
    expect((await fetchTool(2)).result?.structuredContent?.cache).toBe("hit");
  });
});
