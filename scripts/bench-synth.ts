import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/**
 * `npm run bench:synth`: wall time and peak memory of synthesizing every environment both ways a
 * user does it, `npm run synth` (the bundled app run by node) and `npx cdktf synth` (the cdktf CLI
 * on Node 24, running the same app through cdktf.json), alternating runs in this one script so
 * both see the same machine.
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

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function main(): void {
  if (!fs.existsSync("/usr/bin/time")) throw new Error("needs GNU time (/usr/bin/time): apt-get install -y time");
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "bench-synth-"));
  const env = { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" };

  const npmSynth: Sample[] = [];
  const cliSynth: Sample[] = [];
  for (let run = 0; run < RUNS; run++) {
    npmSynth.push(measure(["npm", "run", "--silent", "synth"], { ...env, CDKTF_OUTDIR: path.join(out, "npm") }));
    cliSynth.push(measure(["npx", "cdktf", "synth", "--output", path.join(out, "cli")], env));
  }
  fs.rmSync(out, { recursive: true, force: true });

  const row = (label: string, samples: Sample[]) => `${label.padEnd(52)} ${median(samples.map((s) => s.seconds)).toFixed(2).padStart(8)} s ${median(samples.map((s) => s.peakMiB)).toFixed(0).padStart(8)} MiB`;
  const ratio = median(npmSynth.map((s) => s.seconds)) / median(cliSynth.map((s) => s.seconds));
  const memoryRatio = median(npmSynth.map((s) => s.peakMiB)) / median(cliSynth.map((s) => s.peakMiB));
  console.log(`synthesize every environment: median of ${RUNS} alternating runs, ${os.cpus().length} cores, node ${process.versions.node}`);
  console.log(row("npm run synth (esbuild bundle, then node)", npmSynth));
  console.log(row("npx cdktf synth (the CLI, running the same app)", cliSynth));
  console.log(`npm run synth / npx cdktf synth: time ${ratio.toFixed(2)}x, peak memory ${memoryRatio.toFixed(2)}x`);
}

main();
