import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * The local provider mirror: TF_PROVIDER_MIRROR, or the folder holding registry.terraform.io
 * within three levels of the root. Undefined when there is none (Terraform then uses the registry).
 * The temp dir is skipped: `terraform providers lock` unpacks a registry.terraform.io there while it
 * runs (/tmp/terraform-providers-lock*), and an init linked to it finds no provider once it is gone.
 */
export function providerMirror(): string | undefined {
  if (process.env.TF_PROVIDER_MIRROR) return process.env.TF_PROVIDER_MIRROR;
  const skip = ["-path", os.tmpdir(), "-prune", "-o"];
  const found = spawnSync("find", ["/", "-xdev", "-maxdepth", "3", ...skip, "-type", "d", "-name", "registry.terraform.io", "-print"], { encoding: "utf8" });
  const first = found.stdout.split("\n").find(Boolean);
  return first ? path.dirname(first) : undefined;
}

/**
 * The environment that makes Terraform take providers from `mirror` (as usual without one): a CLI
 * config written into `dir`, and the mirror for `terraform providers lock` too, which ignores the
 * CLI config and asks the registry (cdktf runs it after the first init of a stack).
 */
export function mirrorEnvironment(dir: string, mirror = providerMirror()): Record<string, string> {
  const file = path.join(dir, "cli.tfrc");
  fs.writeFileSync(file, mirror ? `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror)}\n  }\n}\n` : "");
  return { TF_CLI_CONFIG_FILE: file, ...(mirror ? { TF_CLI_ARGS_providers_lock: `-fs-mirror=${mirror}` } : {}) };
}
