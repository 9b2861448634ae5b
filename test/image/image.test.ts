import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { IMAGE_VERIFY_COMMAND } from "../../config/defaults";
import { SERVER_CONTAINER } from "../../constructs/mcp-service";
import { resourcesOf, synthStack, type TerraformJson } from "../support/fixtures";
import { exited, freePort, waitFor } from "../support/processes";
import { Container, imageConfig, ImageRoot, type ImageConfig } from "./container";

/*
 * The built server image (scripts/image.sh builds it; `npm run test:image` runs both) against what
 * the staging stack synthesizes: the contract is read from the task definition, never restated.
 * The image runs in test/image/container.ts's small runtime: its own PID and mount namespaces, a
 * read-only root with the task's writable paths, its ENTRYPOINT + CMD as its USER.
 */
const IMAGE = process.env.MCP_TEST_IMAGE ?? "localhost/mcp-server:test";
/** The build context: its lockfile is what the image's `npm ci --omit=dev` installed from. */
const SERVER_DIR = path.resolve(__dirname, "..", "..", "server");

interface ContainerDefinition {
  name: string;
  environment?: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  readonlyRootFilesystem?: boolean;
  mountPoints?: { containerPath: string; readOnly?: boolean }[];
  healthCheck?: { command: string[] };
  stopTimeout?: number;
}

const stack: TerraformJson = synthStack("staging");
const [taskName, task] = Object.entries(resourcesOf(stack, "aws_ecs_task_definition")).sort(([a], [b]) => a.localeCompare(b))[0];
const server = (JSON.parse(String(task.container_definitions)) as ContainerDefinition[]).find((c) => c.name === SERVER_CONTAINER)!;
const writablePaths = (server.mountPoints ?? []).filter((m) => !m.readOnly).map((m) => m.containerPath);
const healthCheck = server.healthCheck!.command;
/** ECS's health check forms: ["CMD", exe, ...args] runs directly, ["CMD-SHELL", line] through /bin/sh. */
const healthCheckArgv = healthCheck[0] === "CMD-SHELL" ? ["/bin/sh", "-c", healthCheck[1]] : healthCheck.slice(1);

/** `${aws_type.name.attr}` -> the literal the stack sets there, else a name valid wherever a host or id is. */
const resolve = (value: string) =>
  value.replace(/\$\{(aws_[a-z_0-9]+)\.([^.}]+)\.([a-z_]+)\}/g, (_ref, type: string, name: string, attr: string) => {
    const set = resourcesOf(stack, type)[name]?.[attr];
    return typeof set === "string" ? set : "resolved-at-apply";
  });

const built = spawnSync("buildah", ["images", "--quiet", IMAGE], { encoding: "utf8" });
const notReady =
  process.getuid?.() !== 0
    ? "the image tests need root (buildah mount, mount and PID namespaces)"
    : built.status !== 0 || !built.stdout.trim()
      ? `no image ${IMAGE}: npm run test:image builds it first (scripts/image.sh)`
      : undefined;
const describeIfBuilt = notReady
  ? () => {
      throw new Error(notReady);
    }
  : describe;

describeIfBuilt(`the server image ${IMAGE}, run as the staging task definition ${taskName} runs it`, () => {
  let image: ImageRoot;
  let config: ImageConfig;
  let container: Container;
  let redis: ChildProcess;
  let port = 0;
  let logs = "";
  const url = (p: string) => `http://127.0.0.1:${port}${p}`;

  beforeAll(async () => {
    image = new ImageRoot(IMAGE);
    config = imageConfig(IMAGE);
    const redisPort = await freePort();
    redis = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    port = await freePort();
    const env: Record<string, string> = Object.fromEntries([
      ...(server.environment ?? []).map((e) => [e.name, resolve(e.value)]),
      ...(server.secrets ?? []).map((s) => [s.name, "test-secret-value"]),
    ]);
    // IAM authentication needs ElastiCache to check the SigV4 token; a local redis-server cannot,
    // and the task role's credentials do not exist offline. So plain Redis, no IAM user
    // (test/cache-contract.test.ts signs in as the stack's IAM user, outside the image).
    delete env.REDIS_IAM_USER;
    delete env.REDIS_IAM_CACHE_ID;
    Object.assign(env, {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      // The host's network is shared: free ports, and the Host header the tests send.
      PORT: String(port),
      METRICS_PORT: String(await freePort()),
      ALLOWED_HOSTS: [env.ALLOWED_HOSTS, "127.0.0.1"].filter(Boolean).join(","),
    });
    container = new Container(image, config, { env, writablePaths, output: (chunk) => (logs += chunk) });
    await waitFor("the server in the image to be live", async () => (await fetch(url("/health/live"))).ok, 30_000).catch((error: Error) => {
      throw new Error(`${error.message}; its output:\n${logs}`);
    });
  }, 60_000);

  afterAll(async () => {
    await container?.kill();
    redis?.kill("SIGKILL");
    if (redis) await exited(redis);
    image?.remove();
  });

  it("runs as a non-root user", async () => {
    expect(config.User).toBeTruthy();
    expect(image.user(config.User!).uid).not.toBe(0);
    expect((await container.exec(["id", "-u"])).stdout.trim()).not.toBe("0");
    // And the server itself, as the kernel sees it: real, effective, saved and filesystem uid.
    const uids = fs.readFileSync(`/proc/${await container.pid1()}/status`, "utf8").match(/^Uid:\s+(.*)$/m)![1].split(/\s+/);
    expect(uids).toEqual(Array(4).fill(String(image.user(config.User!).uid)));
  });

  it("declares every writable path of the task as a VOLUME whose mode the image's user may write (ECS gives an undeclared one root 0755)", () => {
    const declared = Object.keys(config.Volumes ?? {});
    expect(writablePaths.filter((p) => !declared.includes(p))).toEqual([]);
    const user = image.user(config.User!);
    for (const p of writablePaths) {
      const stat = fs.statSync(image.file(p));
      const writable = stat.uid === user.uid ? (stat.mode & 0o200) !== 0 : (stat.mode & 0o002) !== 0;
      expect({ path: p, writable }).toEqual({ path: p, writable: true });
    }
  });

  it("CMD is exec form and starts node", () => {
    expect(Array.isArray(config.Cmd)).toBe(true);
    expect(config.Cmd![0]).toBe("node");
  });

  it("every path the task definition names exists in the image", async () => {
    const executable = async (name: string) => (await container.exec(["/bin/sh", "-c", 'command -v "$1"', "sh", name])).code === 0;
    const file = async (p: string) => (await container.exec(["test", "-f", p])).code === 0;
    const directory = async (p: string) => (await container.exec(["test", "-d", p])).code === 0;
    const named = {
      healthCheck: { executable: healthCheckArgv[0], files: healthCheckArgv.slice(1).filter((a) => a.startsWith("/")) },
      verify: { executable: IMAGE_VERIFY_COMMAND[0], files: IMAGE_VERIFY_COMMAND.slice(1).filter((a) => a.startsWith("/")) },
    };
    expect(named.healthCheck.files.length + named.verify.files.length).toBeGreaterThan(0);
    const found: Record<string, boolean> = {};
    for (const { executable: exe, files } of Object.values(named)) {
      found[`executable ${exe}`] = await executable(exe);
      for (const f of files) found[f] = await file(f);
    }
    for (const p of writablePaths) found[`directory ${p}`] = await directory(p);
    expect(Object.keys(found)).toContain("directory /tmp");
    expect(Object.entries(found).filter(([, ok]) => !ok)).toEqual([]);
  });

  it("answers /health/live, /health/ready (Redis pass) and an MCP initialize", async () => {
    expect((await fetch(url("/health/live"))).status).toBe(200);
    await waitFor("readiness to report pass", async () => {
      const ready = await fetch(url("/health/ready"));
      const body = (await ready.json()) as { status: string; checks: Record<string, { status: string }[]> };
      return ready.status === 200 && body.status === "pass" && body.checks["redis:responseTime"]?.[0]?.status === "pass";
    });
    const client = new Client({ name: "image-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(url("/mcp"))));
    try {
      expect(client.getServerVersion()?.name).toBeTruthy();
      expect((await client.listTools()).tools.map((t) => t.name)).toContain("server_info");
    } finally {
      await client.close();
    }
  });

  it("the task definition's own health check command succeeds inside the container", async () => {
    const result = await container.exec(healthCheckArgv);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
  });

  it("and the health check fails when nothing answers (it checks the server, not just that node starts)", async () => {
    const result = await container.exec(healthCheckArgv, { env: { PORT: String(await freePort()) } });
    expect(result.code).not.toBe(0);
  });

  it("the verify entry point (IMAGE_VERIFY_COMMAND) passes against the server from inside the image", async () => {
    const result = await container.exec([...IMAGE_VERIFY_COMMAND, url("/mcp")]);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: "" });
    expect(result.stdout).toContain("server_info: ok");
  });

  it("/app/node_modules is the lockfile's production tree: no dev dependency (no typescript, no jest)", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(SERVER_DIR, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
    const devDependencies = Object.keys((JSON.parse(fs.readFileSync(path.join(SERVER_DIR, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies);
    const installed = Object.keys((JSON.parse(fs.readFileSync(image.file("/app/node_modules/.package-lock.json"), "utf8")) as { packages: Record<string, unknown> }).packages)
      .filter((p) => p.startsWith("node_modules/"))
      .sort();
    const production = Object.entries(lock.packages)
      .filter(([p, entry]) => p.startsWith("node_modules/") && !entry.dev)
      .map(([p]) => p)
      .sort();
    expect(installed).toEqual(production);
    // The hidden lockfile is npm's record; the directories are what node resolves.
    expect(Object.keys(lock.packages).filter((p) => lock.packages[p].dev && fs.existsSync(image.file(`/app/${p}`)))).toEqual([]);
    expect(installed.filter((p) => /(^|\/)node_modules\/(typescript|jest|ts-jest|@types\/jest)$/.test(p))).toEqual([]);
    // A devDependency is there only if a production dependency needs it too, as the lockfile records.
    const present = devDependencies.filter((d) => fs.existsSync(image.file(`/app/node_modules/${d}`)));
    expect(present.filter((d) => lock.packages[`node_modules/${d}`].dev)).toEqual([]);
  });

  it("the trimmed node_modules keeps every licence file its packages ship", () => {
    // server/node_modules is the same lockfile installed with dev dependencies, untrimmed.
    const licence = /^(licen[cs]e|notice|copying)/i;
    const installed = Object.keys((JSON.parse(fs.readFileSync(image.file("/app/node_modules/.package-lock.json"), "utf8")) as { packages: Record<string, unknown> }).packages).filter((p) => p.startsWith("node_modules/"));
    const shipped = installed.flatMap((p) => fs.readdirSync(path.join(SERVER_DIR, p)).filter((f) => licence.test(f)).map((f) => `${p}/${f}`));
    expect(shipped.length).toBeGreaterThan(installed.length / 2);
    expect(shipped.filter((f) => !fs.existsSync(image.file(`/app/${f}`)))).toEqual([]);
  });

  it("the root filesystem is read-only and only the task's writable paths can be written", async () => {
    expect(server.readonlyRootFilesystem).toBe(true);
    // As root inside, so that only the filesystem, not a permission, can refuse the write.
    const probe = async (dir: string) => {
      const file = `${dir.replace(/\/$/, "")}/.image-test-probe`;
      const result = await container.exec(["/bin/sh", "-c", 'touch "$1" && rm "$1"', "sh", file], { asRoot: true });
      return result.code === 0 ? "writable" : /Read-only file system/.test(result.stderr) ? "read-only" : result.stderr.trim();
    };
    // Every top-level directory of the image, and the server's working directory and home.
    const kernel = ["/proc", "/sys", "/dev"];
    const topLevel = fs
      .readdirSync(image.root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !kernel.includes(`/${d.name}`) && !writablePaths.includes(`/${d.name}`))
      .map((d) => `/${d.name}`);
    const readOnly = ["/", config.WorkingDir || "/", image.user(config.User || "0").home, ...topLevel];
    const seen: Record<string, string> = {};
    for (const dir of readOnly) seen[dir] = await probe(dir);
    for (const dir of writablePaths) seen[dir] = await probe(dir);
    expect(seen).toEqual(Object.fromEntries([...readOnly.map((d) => [d, "read-only"]), ...writablePaths.map((d) => [d, "writable"])]));
  });

  // Last: it stops the server.
  it("SIGTERM from outside reaches node as PID 1: readiness turns 503 at once, and it exits 0 within the stop timeout", async () => {
    const pid = await container.pid1();
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    expect(status.match(/^NSpid:\s+(.*)$/m)![1].split(/\s+/).pop()).toBe("1");
    // node itself, the CMD as written: no shell or init in between to swallow the signal.
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    expect({ program: path.basename(argv[0]), argv }).toEqual({ program: "node", argv: config.Cmd });

    const signalled = Date.now();
    await container.signal("SIGTERM");
    await waitFor("readiness to turn 503", async () => (await fetch(url("/health/ready"))).status === 503, 2_000);
    const code = await container.exited();
    expect({ code, withinStopTimeout: Date.now() - signalled < server.stopTimeout! * 1000 }).toEqual({ code: 0, withinStopTimeout: true });
  }, 130_000);
});
