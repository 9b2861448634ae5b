// Runs as the root package's `prepare` script (so on `npm ci` and `npm install` here, never in an
// app that installs the constructs): builds the cdktf CLI's native pty module for the Node that
// `npm run` and `npx` put first, the `node` dev dependency's Node 24, for which the module ships no
// prebuild. Offline: node-gyp (bundled with npm) compiles against the headers that the `node`
// package ships, so nothing is downloaded.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const resolveDir = (pkg, from) => {
  try {
    return dirname(require.resolve(`${pkg}/package.json`, from ? { paths: [from] } : undefined));
  } catch {
    return undefined;
  }
};

const pty = resolveDir("@cdktf/node-pty-prebuilt-multiarch");
const node = resolveDir("node");
// No cdktf CLI (a production install) or no bundled Node: nothing to build.
if (!pty || !node) process.exit(0);

const headers = resolveDir(`node-${process.platform}-${process.arch}`, node);
// A failure here warns rather than fails the install: only the cdktf CLI needs the module, and
// `npm run synth` and the rest work without it (the cdktf CLI test then fails with the cause).
if (!headers || !existsSync(join(headers, "include", "node", "node.h"))) {
  console.warn(`build-pty: WARNING: the node package has no headers for ${process.platform}-${process.arch}, so the cdktf CLI will not start under Node 24 (npm ci restores them after an npm install)`);
  process.exit(0);
}
const target = JSON.parse(readFileSync(join(headers, "package.json"), "utf8")).version;
const stamp = join(pty, "build", "Release", "built-for-node");
if (existsSync(join(pty, "build", "Release", "pty.node")) && existsSync(stamp) && readFileSync(stamp, "utf8") === target) process.exit(0);

// npm names its bundled node-gyp in every lifecycle script's environment.
const gyp = process.env.npm_config_node_gyp ?? require.resolve("node-gyp/bin/node-gyp.js");
const started = Date.now();
// node-gyp lets npm's config (npm_config_nodedir and the like, in every lifecycle script's
// environment) override its own arguments, and a machine-wide `nodedir` would pick another Node.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(nodedir|target|target_arch|arch|runtime|dist_?url)$/i.test(k)));
// The compiler's warnings about the module's own sources are noise unless the build fails.
const build = spawnSync(process.execPath, [gyp, "rebuild", `--nodedir=${headers}`, "--loglevel=warn"], { cwd: pty, env, encoding: "utf8" });
if (build.status !== 0) {
  console.warn(`${build.stdout}${build.stderr}\nbuild-pty: WARNING: node-gyp rebuild of ${pty} failed (exit ${build.status}), so the cdktf CLI will not start under Node 24; it needs python3, make and a C++ compiler (apt-get install -y python3 make g++), then npm ci again`);
  process.exit(0);
}
writeFileSync(stamp, target);
console.log(`build-pty: built the cdktf CLI's pty module for Node ${target} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
