import { spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

/**
 * The longest any one command of a test may run. spawnSync blocks the jest worker's event loop, so
 * jest's own timeout cannot end a hung command: without this, one would hold the run until CI's limit.
 */
export const COMMAND_TIMEOUT_MS = 200_000;

/** The built reference server: `npm test` builds it (the server's own tests) before jest runs. */
export const SERVER = path.resolve(__dirname, "..", "..", "server", "dist", "index.js");

// Below the ephemeral range, so that no outgoing connection takes a port before its process binds it.
export { freePort } from "../../server/test/helpers/ports";

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));
}

/** A CA and a certificate for localhost, made with openssl, for a TLS redis-server. */
export function makeTlsFiles(dir: string): { cert: string; key: string; ca: string } {
  const run = (args: string[]) => {
    const r = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  };
  run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=mcp-test-ca"]);
  run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "redis.key", "-out", "redis.csr", "-subj", "/CN=localhost"]);
  fs.writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  run(["x509", "-req", "-in", "redis.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "redis.crt", "-days", "1", "-extfile", "ext.cnf"]);
  return { cert: path.join(dir, "redis.crt"), key: path.join(dir, "redis.key"), ca: path.join(dir, "ca.crt") };
}

/** One command on HAProxy's runtime API (the admin socket). */
export function haproxyCommand(socket: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const connection = net.createConnection(socket);
    let reply = "";
    connection.on("connect", () => connection.end(`${command}\n`));
    connection.on("data", (chunk) => (reply += chunk));
    connection.on("end", () => resolve(reply));
    connection.on("error", reject);
  });
}
