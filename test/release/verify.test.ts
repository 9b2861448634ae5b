import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { ReleaseError } from "../../release/errors";
import { serverInfo, verifyDeployment } from "../../release/verify";
import { startInfoServer, type InfoServer } from "./support";

describe("verifyDeployment", () => {
  let server: InfoServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it("passes when initialize, tools/list and every server_info call report the expected version and colour", async () => {
    server = await startInfoServer({ version: "1.4.0", color: "green" });
    const result = await verifyDeployment(server.url, { version: "1.4.0", color: "green" }, { samples: 3 });
    expect(result).toEqual({ tools: ["server_info"], samples: 3 });
    // initialize, the initialized notification, tools/list and three calls: each its own request.
    expect(server.requests()).toBeGreaterThanOrEqual(6);
  });

  it("reads structured content when the server sends it", async () => {
    server = await startInfoServer({ version: "1.4.0", color: "green" }, undefined, { structured: true });
    await expect(verifyDeployment(server.url, { version: "1.4.0", color: "green" }, { samples: 1 })).resolves.toBeDefined();
  });

  it("fails naming the version server_info reported when it is not the expected one", async () => {
    server = await startInfoServer({ version: "1.3.0", color: "green" });
    await expect(verifyDeployment(server.url, { version: "1.4.0", color: "green" })).rejects.toThrow(
      `verify ${server.url}: server_info version is "1.3.0", expected "1.4.0"`,
    );
  });

  it("fails when the test listener reaches the wrong colour", async () => {
    server = await startInfoServer({ version: "1.4.0", color: "blue" });
    await expect(verifyDeployment(server.url, { version: "1.4.0", color: "green" })).rejects.toThrow(/server_info colour is "blue", expected "green"/);
  });

  it("fails when the response headers disagree with the body (a proxy or another task answered)", async () => {
    server = await startInfoServer({ version: "1.4.0", color: "green" }, { version: "1.3.0", color: "green" });
    await expect(verifyDeployment(server.url, { version: "1.4.0", color: "green" })).rejects.toThrow(/x-app-version header is "1.3.0", expected "1.4.0"/);
  });

  it("fails with a ReleaseError, not a stack trace, when nothing listens at the URL", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const failure = verifyDeployment(`http://127.0.0.1:${port}/mcp`, { version: "1.4.0", color: "green" });
    await expect(failure).rejects.toBeInstanceOf(ReleaseError);
    await expect(failure).rejects.toThrow(new RegExp(`verify http://127.0.0.1:${port}/mcp: initialize failed: .*`));
  });

  it("refuses a URL that is not one", async () => {
    await expect(verifyDeployment("alb:8443", { version: "1", color: "green" })).rejects.toThrow(/expected an http\(s\) URL/);
  });
});

describe("serverInfo", () => {
  it("reads version and colour under the field names servers use", () => {
    expect(serverInfo({ content: [{ type: "text", text: '{"version":"2","deploymentColor":"blue"}' }] })).toEqual({ version: "2", color: "blue" });
    expect(serverInfo({ structuredContent: { appVersion: "3", color: "green" }, content: [] })).toEqual({ version: "3", color: "green" });
  });

  it("refuses a tool error", () => {
    expect(() => serverInfo({ isError: true, content: [{ type: "text", text: "boom" }] })).toThrow("server_info returned an error: boom");
  });
});

// The reference server itself (server/dist, built by `npm run build` in server/), when it has been built.
const SERVER_ENTRY = path.resolve(__dirname, "..", "..", "server", "dist", "index.js");
const withBuiltServer = fs.existsSync(SERVER_ENTRY) ? describe : describe.skip;

withBuiltServer("verifyDeployment against the reference server", () => {
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    const metricsPort = await freePort();
    child = spawn(process.execPath, [SERVER_ENTRY], {
      env: {
        PATH: process.env.PATH,
        PORT: String(port),
        METRICS_PORT: String(metricsPort),
        HOST: "127.0.0.1",
        UPSTREAM_URL: "http://127.0.0.1:9",
        REDIS_URL: "redis://127.0.0.1:1",
        DEPLOYMENT_COLOR: "green",
        APP_VERSION: "1.4.0",
        LOG_LEVEL: "warn",
      },
      stdio: "ignore",
    });
    url = `http://127.0.0.1:${port}/mcp`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ready = await fetch(`http://127.0.0.1:${port}/health/live`).then((r) => r.ok, () => false);
      if (ready) break;
      if (Date.now() > deadline) throw new Error("the reference server did not start");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }, 15_000);

  afterAll(() => {
    child?.kill("SIGKILL");
  });

  it("passes for the version and colour it was started with", async () => {
    await expect(verifyDeployment(url, { version: "1.4.0", color: "green" })).resolves.toMatchObject({ samples: 5 });
  });

  it("fails for another version", async () => {
    await expect(verifyDeployment(url, { version: "1.5.0", color: "green" }, { samples: 1 })).rejects.toThrow(/version is "1.4.0", expected "1.5.0"/);
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
