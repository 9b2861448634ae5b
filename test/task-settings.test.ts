import { loadEnvironment, type Environment } from "../config/load";
import { COLORS, type Color } from "../config/release-manifest";
import type { EnvironmentConfigInput } from "../config/schema";
import { main } from "../release/cli";
import { cliHarness, editConfig, settledManifest, startInfoServer, TAGGED, type InfoServer } from "./release/support";
import { resourcesOf, synthStackText, type TerraformJson } from "./support/fixtures";

/*
 * The stack builds each colour's task definition from its manifest entry, never from the config:
 * a config change reaches a colour only when a release records it there, so editing the config can
 * never replace the tasks that serve traffic.
 */

/** Each colour's aws_ecs_task_definition, as the JSON text of the synthesized resource. */
function taskDefinitions(environment: Environment): Record<Color, string> {
  const json: TerraformJson = JSON.parse(synthStackText("staging", environment));
  const all = Object.values(resourcesOf(json, "aws_ecs_task_definition"));
  const of = (color: Color) => {
    const mine = all.filter((task) => String(task.family).endsWith(`-${color}`));
    expect(mine).toHaveLength(1);
    return JSON.stringify(mine[0]);
  };
  return { blue: of("blue"), green: of("green") };
}

/** Byte-identical, failing with a field-by-field diff (the container definitions are themselves JSON text). */
function expectIdentical(actual: string, expected: string): void {
  const readable = (text: string) => {
    const task = JSON.parse(text);
    return { ...task, container_definitions: JSON.parse(task.container_definitions) };
  };
  expect(readable(actual)).toEqual(readable(expected));
  expect(actual).toBe(expected);
}

const serverEnvironment = (taskDefinition: string): Array<{ name: string; value: string }> =>
  JSON.parse(JSON.parse(taskDefinition).container_definitions).flatMap((c: { environment?: unknown[] }) => c.environment ?? []);

let harness: ReturnType<typeof cliHarness>;
let server: InfoServer;
beforeAll(async () => {
  server = await startInfoServer({ version: "1.4.0", color: "green" });
});
afterAll(() => server.close());
afterEach(() => harness?.config.remove());

/** blue live at 100%, green idle: the task definitions before a config edit, right after it, and after the next deploy. */
async function editThenDeploy(edit: (staging: EnvironmentConfigInput) => void): Promise<Record<"before" | "edited" | "deployed", Record<Color, string>>> {
  harness = cliHarness(settledManifest());
  const load = () => loadEnvironment("staging", harness.config.dir);
  const before = taskDefinitions(load());
  editConfig(harness.config.dir, edit);
  const edited = taskDefinitions(load());

  const code = await main(["deploy", "--env", "staging", "--image", TAGGED, "--url", server.url], harness.deps);
  expect(harness.err).toEqual([]);
  expect(code).toBe(0);
  expect(harness.applier.applied).toHaveLength(1);
  // What Terraform was given is what decides the tasks, not what the file says afterwards.
  const deployed = taskDefinitions({ config: load().config, release: harness.applier.applied[0] });
  return { before, edited, deployed };
}

describe("a config change reaches a colour only through release deploy", () => {
  it("service.cpu: the edit alone changes neither task definition; the next deploy changes only the idle colour's", async () => {
    // 256 cpu allows no more than 2048 MiB and 512 cpu no less than 1024, so the size moves as a pair.
    const { before, edited, deployed } = await editThenDeploy((c) => {
      c.service.cpu = 512;
      c.service.memory = 1024;
    });

    for (const color of COLORS) expectIdentical(edited[color], before[color]);
    expectIdentical(deployed.blue, before.blue);
    expect(JSON.parse(before.green)).toMatchObject({ cpu: "256", memory: "512" });
    expect(JSON.parse(deployed.green)).toMatchObject({ cpu: "512", memory: "1024" });
  });

  it("service.environment: a new variable waits for the deploy, then reaches only the idle colour", async () => {
    const variable = { name: "FEATURE_FLAGS", value: "streaming" };
    const { before, edited, deployed } = await editThenDeploy((c) => {
      c.service.environment = { ...c.service.environment, [variable.name]: variable.value };
    });

    for (const color of COLORS) expectIdentical(edited[color], before[color]);
    expectIdentical(deployed.blue, before.blue);
    expect(serverEnvironment(before.green)).not.toContainEqual(variable);
    expect(serverEnvironment(deployed.green)).toContainEqual(variable);
  });
});
