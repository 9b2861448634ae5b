import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ReleaseError } from "./errors";

export interface VerifyExpectation {
  /** Version server_info must report (the manifest's version for the colour). */
  readonly version: string;
  /** Colour server_info must report. */
  readonly color: string;
}

export interface VerifyOptions {
  /** server_info calls; each is its own request, so the load balancer spreads them over the colour's tasks. @default 5 */
  readonly samples?: number;
  /** Bearer token for a server that requires one (AUTH_MODE=jwt). @default none */
  readonly bearerToken?: string;
  /** Milliseconds each request may take. @default 10000 */
  readonly timeoutMs?: number;
}

export interface VerifyResult {
  readonly tools: string[];
  readonly samples: number;
}

/**
 * The MCP check through the test listener: initialize, list tools, then call server_info several
 * times and require every answer (body and the x-app-version / x-deployment-color headers) to name
 * the expected version and colour. Throws a ReleaseError saying what differed.
 */
export async function verifyDeployment(url: string, expected: VerifyExpectation, options: VerifyOptions = {}): Promise<VerifyResult> {
  const samples = options.samples ?? 5;
  const timeout = options.timeoutMs ?? 10_000;
  const endpoint = URL.canParse(url) ? new URL(url) : undefined;
  if (!endpoint || !["http:", "https:"].includes(endpoint.protocol)) {
    throw new ReleaseError(`--url ${url}: expected an http(s) URL such as http://<alb dns>:8443/mcp`);
  }
  const seenHeaders: Array<{ color: string | null; version: string | null }> = [];
  const recordingFetch = async (input: string | URL, init?: RequestInit) => {
    const deadline = AbortSignal.timeout(timeout);
    const response = await fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline });
    seenHeaders.push({ color: response.headers.get("x-deployment-color"), version: response.headers.get("x-app-version") });
    return response;
  };
  const transport = new StreamableHTTPClientTransport(endpoint, {
    fetch: recordingFetch,
    requestInit: options.bearerToken ? { headers: { authorization: `Bearer ${options.bearerToken}` } } : undefined,
  });
  const client = new Client({ name: "mcp-deploy-release", version: "1.0.0" });
  const step = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      if (error instanceof ReleaseError) throw error;
      throw new ReleaseError(`verify ${url}: ${what} failed: ${describe(error)}`);
    }
  };
  try {
    await step("initialize", () => client.connect(transport));
    const { tools } = await step("tools/list", () => client.listTools(undefined, { timeout }));
    const names = tools.map((t) => t.name);
    if (!names.includes("server_info")) throw new ReleaseError(`verify ${url}: the server lists no server_info tool (tools: ${names.join(", ") || "none"})`);
    for (let i = 0; i < samples; i += 1) {
      const result = await step("tools/call server_info", () => client.callTool({ name: "server_info", arguments: {} }, undefined, { timeout }));
      const info = serverInfo(result);
      check(url, "server_info version", info.version, expected.version);
      check(url, "server_info colour", info.color, expected.color);
    }
    for (const headers of seenHeaders) {
      // The transport's own requests (e.g. a refused GET stream) may lack them; any present must match.
      if (headers.version !== null) check(url, "x-app-version header", headers.version, expected.version);
      if (headers.color !== null) check(url, "x-deployment-color header", headers.color, expected.color);
    }
    return { tools: names, samples };
  } finally {
    await client.close().catch(() => undefined);
  }
}

function check(url: string, what: string, actual: string | undefined, expected: string): void {
  if (actual !== expected) throw new ReleaseError(`verify ${url}: ${what} is ${actual === undefined ? "missing" : `"${actual}"`}, expected "${expected}"`);
}

/** Version and colour from a server_info result: structured content if present, else the JSON text; field names read leniently. */
export function serverInfo(result: unknown): { version?: string; color?: string } {
  const { structuredContent, content, isError } = result as { structuredContent?: unknown; content?: Array<{ type: string; text?: string }>; isError?: boolean };
  const text = content?.find((c) => c.type === "text")?.text;
  if (isError) throw new ReleaseError(`server_info returned an error: ${text ?? "no message"}`);
  let info: Record<string, unknown> | undefined = isRecord(structuredContent) ? structuredContent : undefined;
  if (!info && text) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (isRecord(parsed)) info = parsed;
    } catch {
      throw new ReleaseError(`server_info returned text that is not JSON: ${text.slice(0, 200)}`);
    }
  }
  if (!info) throw new ReleaseError("server_info returned neither structured content nor JSON text");
  const pick = (...keys: string[]) => keys.map((k) => info[k]).find((v): v is string => typeof v === "string");
  return {
    version: pick("version", "appVersion", "app_version"),
    color: pick("color", "colour", "deploymentColor", "deployment_color"),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  return cause instanceof Error && cause.message !== error.message ? `${error.message} (${cause.message})` : error.message;
}
