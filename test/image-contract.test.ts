import * as fs from "node:fs";
import * as path from "node:path";
import { SERVER_CONTAINER } from "../constructs/mcp-service";
import { resourcesOf, synthStack, type TerraformJson } from "./support/fixtures";

/*
 * The image contract from both ends: every task definition the stacks synthesize, its server
 * container's variables (secrets as test values, references to other resources as plausible
 * literals) through the server's own config loader. A variable renamed on either side, a value the
 * server refuses, or a derived value that disagrees with the container (stop timeout, ports) fails
 * here instead of deploying silently onto the server's defaults.
 */
const SERVER_CONFIG = path.resolve(__dirname, "../server/dist/config.js");

interface ServerConfigModule {
  loadConfig(env: Record<string, string>): Record<string, unknown>;
  CONFIG_VARIABLES: readonly string[];
}

interface Container {
  name: string;
  environment?: { name: string; value: string }[];
  secrets?: { name: string; valueFrom: string }[];
  stopTimeout?: number;
  portMappings?: { name: string; containerPort: number }[];
}

/** `${aws_type.name.attr}` -> the literal the stack sets there, else a name that is valid wherever a host or id is. */
const resolve = (stack: TerraformJson, value: string) =>
  value.replace(/\$\{(aws_[a-z_0-9]+)\.([^.}]+)\.([a-z_]+)\}/g, (_ref, type: string, name: string, attr: string) => {
    const set = resourcesOf(stack, type)[name]?.[attr];
    return typeof set === "string" ? set : "resolved-at-apply";
  });

const describeIfBuilt = fs.existsSync(SERVER_CONFIG) ? describe : () => {
  throw new Error(`the image contract needs the built server (${SERVER_CONFIG}): npm test builds it first`);
};

describeIfBuilt("the image contract: what the task definitions set is what the server reads", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the server's own build, loaded as it runs
  const server = require(SERVER_CONFIG) as ServerConfigModule;

  for (const environment of ["staging", "production"] as const) {
    const stack = synthStack(environment);
    for (const [name, task] of Object.entries(resourcesOf(stack, "aws_ecs_task_definition"))) {
      const container = (JSON.parse(String(task.container_definitions)) as Container[]).find((c) => c.name === SERVER_CONTAINER)!;
      const env = Object.fromEntries([
        ...(container.environment ?? []).map((e) => [e.name, resolve(stack, e.value)]),
        ...(container.secrets ?? []).map((s) => [s.name, "test-secret-value"]),
      ]) as Record<string, string>;

      it(`${environment} ${name}: every variable is one the server reads (or OpenTelemetry's)`, () => {
        const unknown = Object.keys(env).filter((k) => !server.CONFIG_VARIABLES.includes(k) && !k.startsWith("OTEL_"));
        expect(unknown).toEqual([]);
      });

      it(`${environment} ${name}: the server's config loader accepts them all`, () => {
        expect(() => server.loadConfig(env)).not.toThrow();
      });

      it(`${environment} ${name}: derived values agree with the container`, () => {
        const config = server.loadConfig(env);
        const port = (mapping: string) => container.portMappings!.find((p) => p.name === mapping)!.containerPort;
        expect({ stop: config.STOP_TIMEOUT_SECONDS, port: config.PORT, metrics: config.METRICS_PORT }).toEqual({
          stop: container.stopTimeout,
          port: port("http"),
          metrics: port("metrics"),
        });
      });

      it(`${environment} ${name}: the web ACL admits every body the server accepts, and refuses longer declared ones`, () => {
        const [acl] = Object.values(resourcesOf(stack, "aws_wafv2_web_acl"));
        const rule = (acl.rule as { name: string; statement: { regex_match_statement: { regex_string: string } } }[]).find((r) => r.name === "body-too-large")!;
        const overLimit = new RegExp(rule.statement.regex_match_statement.regex_string);
        const limit = server.loadConfig(env).MAX_BODY_BYTES as number;
        expect([overLimit.test(String(limit)), overLimit.test(String(limit + 1))]).toEqual([false, true]);
      });
    }
  }
});
