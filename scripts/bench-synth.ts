import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * `npm run bench:synth`: wall time and peak memory of synthesizing every environment, our way
 * (the bundled app run by node) against cdktf's default path (`cdktf synth`, app run by ts-node
 * with type checking), alternating runs in this one script so both see the same machine.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const root = path.resolve(__dirname, "..", "..");

interface Sample {
  seconds: number;
  peakMiB: number;
}

/** Runs a command under GNU time, which reports the peak RSS of the largest process in its tree. */
function measure(command: string[], env: NodeJS.ProcessEnv): Sample {
  const report = path.join(os.tmpdir(), `bench-synth-${process.pid}.txt`);
  const started = process.hrtime.bigint();
  const result = spawnSync("/usr/bin/time", ["-f", "%M", "-o", report, ...command], { cwd: root, env, encoding: "utf8" });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) throw new Error(`${command.join(" ")} failed:\n${result.stdout}${result.stderr}`);
  const kib = Number(fs.readFileSync(report, "utf8").trim().split("\n").pop());
  return { seconds, peakMiB: kib / 1024 };
}

/** A Node.js older than 24 outside node_modules: the cdktf 0.21 CLI's native pty module does not load on 24. */
function nodeForCdktfCli(): string | undefined {
  const candidates = [process.env.CDKTF_CLI_NODE, "/usr/bin/node", "/usr/local/bin/node"].filter((c): c is string => Boolean(c));
  return candidates.find((candidate) => {
    const version = spawnSync(candidate, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" });
    return version.status === 0 && Number(version.stdout) < 24;
  });
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function main(): void {
  if (!fs.existsSync("/usr/bin/time")) throw new Error("needs GNU time (/usr/bin/time): apt-get install -y time");
  const cliNode = nodeForCdktfCli();
  if (!cliNode) throw new Error("needs a Node.js < 24 for the cdktf CLI baseline (set CDKTF_CLI_NODE)");
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
  const env = { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" };
  const cliPath = [path.dirname(cliNode), ...(process.env.PATH ?? "").split(path.delimiter).filter((p) => !p.includes("node_modules"))].join(path.delimiter);

  const ours: Sample[] = [];
  const baseline: Sample[] = [];
  for (let run = 0; run < RUNS; run++) {
    ours.push(measure([process.execPath, "dist/main.js"], { ...env, CDKTF_OUTDIR: path.join(out, "ours") }));
    baseline.push(
      measure([cliNode, "node_modules/cdktf-cli/bundle/bin/cdktf", "synth", "--app", "npx ts-node main.ts", "--output", path.join(out, "baseline")], {
        ...env,
        PATH: cliPath,
      }),
    );
  }
  fs.rmSync(out, { recursive: true, force: true });

  const row = (label: string, samples: Sample[]) => `${label.padEnd(52)} ${median(samples.map((s) => s.seconds)).toFixed(2).padStart(8)} s ${median(samples.map((s) => s.peakMiB)).toFixed(0).padStart(8)} MiB`;
  const ratio = median(ours.map((s) => s.seconds)) / median(baseline.map((s) => s.seconds));
  const memoryRatio = median(ours.map((s) => s.peakMiB)) / median(baseline.map((s) => s.peakMiB));
  console.log(`synthesize every environment: median of ${RUNS} alternating runs, ${os.cpus().length} cores, node ${process.versions.node}`);
  console.log(row("node dist/main.js (bundled app, this project)", ours));
  console.log(row(`cdktf synth, app via ts-node (node ${spawnSync(cliNode, ["-v"], { encoding: "utf8" }).stdout.trim()})`, baseline));
  console.log(`time ratio ${ratio.toFixed(2)}x (goal <= 0.40x), peak memory ratio ${memoryRatio.toFixed(2)}x`);
}

main();
