import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/*
 * Just enough of a container runtime to run a built image the way ECS does, on a machine with no
 * Docker engine and where podman's runtimes (crun, runc) fail on setrlimit. buildah mounts the
 * image's root filesystem; util-linux's unshare gives the container its own PID and mount
 * namespaces (the host's network, like `docker run --network host`); the root is bind-mounted
 * read-only with an empty tmpfs on each writable path (readonlyRootFilesystem and the task's
 * mountPoints); and the image's own ENTRYPOINT + CMD run in it as the image's USER, in its
 * WorkingDir, with its Env under the task's. So the first process is PID 1 and receives a signal
 * from outside as a container's PID 1 does, and `exec` enters the running container as
 * `docker exec` (and the ECS health check) do. Needs root.
 */

/** The parts of an image's OCI config a runtime reads. */
export interface ImageConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  /** Paths the image declares as volumes (VOLUME), as keys. */
  Volumes?: Record<string, object> | null;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const hostTool = (name: string) => {
  const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).stdout.trim();
  if (!found) throw new Error(`${name} is required on the host`);
  return found;
};

export function imageConfig(image: string): ImageConfig {
  const inspect = JSON.parse(execFileSync("buildah", ["inspect", "--type", "image", image], { encoding: "utf8" })) as { OCIv1: { config: ImageConfig } };
  return inspect.OCIv1.config;
}

/** A buildah working container of an image, its root filesystem mounted on the host. */
export class ImageRoot {
  readonly name = `mcp-image-test-${process.pid}`;
  readonly root: string;

  constructor(readonly image: string) {
    execFileSync("buildah", ["from", "--pull-never", "--name", this.name, image], { stdio: "ignore" });
    try {
      this.root = execFileSync("buildah", ["mount", this.name], { encoding: "utf8" }).trim();
    } catch (error) {
      this.remove();
      throw error;
    }
  }

  /** A path of the image, on the host (a symlink in the image with an absolute target would leave it: use exec for those). */
  file(imagePath: string): string {
    return path.join(this.root, imagePath);
  }

  /** A user as the image's USER names it (`name`, `uid`, `name:group`, `uid:gid`), resolved in the image's own /etc/passwd and /etc/group. */
  user(spec: string): { uid: number; gid: number; home: string } {
    const table = (file: string) => fs.readFileSync(this.file(file), "utf8").split("\n").filter(Boolean).map((line) => line.split(":"));
    const [name, group] = spec.split(":");
    const entry = table("/etc/passwd").find((p) => p[0] === name || p[2] === name);
    if (!entry) throw new Error(`user ${name} is not in the image's /etc/passwd`);
    const groupEntry = group === undefined ? undefined : table("/etc/group").find((g) => g[0] === group || g[2] === group);
    return { uid: Number(entry[2]), gid: groupEntry ? Number(groupEntry[2]) : Number(entry[3]), home: entry[5] };
  }

  remove(): void {
    spawnSync("buildah", ["umount", this.name], { stdio: "ignore" });
    spawnSync("buildah", ["rm", this.name], { stdio: "ignore" });
  }
}

/*
 * Runs on the host, as PID 1 of the new namespaces, before the image's entrypoint replaces it:
 * $1 root, $2 working directory, $3 uid, $4 gid, then one tmpfs per writable path
 * (`path:mode:uid:gid`), `--`, and the command.
 */
const SETUP = `set -eu
root=$1 wd=$2 uid=$3 gid=$4; shift 4
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t tmpfs -o nosuid,mode=0755 tmpfs "$root/dev"
for node in null zero full random urandom tty; do : >"$root/dev/$node"; mount --bind "/dev/$node" "$root/dev/$node"; done
mkdir "$root/dev/shm"; mount -t tmpfs -o nosuid,nodev,noexec,mode=1777 shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"; ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"; ln -s /proc/self/fd/2 "$root/dev/stderr"
# The host's name service files, as with --network host (where the image has the files to mount over).
for f in hosts resolv.conf; do if [ -f "$root/etc/$f" ]; then mount --bind -o ro "/etc/$f" "$root/etc/$f"; fi; done
while [ "$1" != -- ]; do
  target=\${1%%:*} rest=\${1#*:}; shift
  mount -t tmpfs -o "nosuid,nodev,mode=\${rest%%:*},uid=$(echo "$rest" | cut -d: -f2),gid=\${rest##*:}" tmpfs "$root$target"
done
shift
exec unshare --root="$root" --wd="$wd" --setgid "$gid" --setuid "$uid" -- "$@"
`;

export interface RunOptions {
  /** The container's variables, over the image's Env (as a task definition's environment is). */
  env: Record<string, string>;
  /** Paths mounted writable (empty) over the read-only root: the task definition's mountPoints. */
  writablePaths: string[];
  /** Each chunk the container writes to stdout or stderr. */
  output?: (chunk: string) => void;
}

/** The image's ENTRYPOINT + CMD, running in its own PID and mount namespaces on a read-only root. */
export class Container {
  readonly process: ChildProcess;
  readonly env: Record<string, string>;
  private readonly user: { uid: number; gid: number };
  private initPid = 0;

  constructor(image: ImageRoot, config: ImageConfig, options: RunOptions) {
    const user = image.user(config.User || "0");
    this.user = user;
    const imageEnv = Object.fromEntries((config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    // What docker and ECS add: HOME from the user's passwd entry, unless the image or task sets it.
    this.env = { HOME: user.home, ...imageEnv, ...options.env };
    const tmpfs = options.writablePaths.map((p) => {
      // As docker mounts a volume over an image directory: its mode and owner carry over.
      const stat = fs.statSync(image.file(p));
      return `${p}:${(stat.mode & 0o7777).toString(8)}:${stat.uid}:${stat.gid}`;
    });
    const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])];
    this.process = spawn(
      hostTool("unshare"),
      ["--mount", "--pid", "--fork", "--kill-child=SIGKILL", "--propagation", "private", "/bin/sh", "-c", SETUP, "sh", image.root, config.WorkingDir || "/", String(user.uid), String(user.gid), ...tmpfs, "--", ...command],
      { env: this.env, stdio: ["ignore", "pipe", "pipe"] },
    );
    for (const stream of [this.process.stdout!, this.process.stderr!]) stream.on("data", (d: Buffer) => options.output?.(d.toString()));
  }

  /** The host's pid of the container's PID 1, once the entrypoint has exec'd the command it runs for good. */
  async pid1(): Promise<number> {
    if (this.initPid) return this.initPid;
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const pid = Number(fs.readFileSync(`/proc/${this.process.pid}/task/${this.process.pid}/children`, "utf8").trim().split(/\s+/)[0]);
      // Past the host-side setup: chrooted into the image (the pid stays the same through each exec).
      if (pid && this.chrooted(pid)) return (this.initPid = pid);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error("the container's first process did not start");
  }

  private chrooted(pid: number): boolean {
    try {
      const [own, host] = [fs.statSync(`/proc/${pid}/root`), fs.statSync("/")];
      return own.dev !== host.dev || own.ino !== host.ino;
    } catch {
      return false;
    }
  }

  /** A command in the running container, as `docker exec` runs it: its namespaces, root, working directory and environment; its user unless `asRoot`. */
  async exec(argv: string[], { asRoot = false, env = {} }: { asRoot?: boolean; env?: Record<string, string> } = {}): Promise<ExecResult> {
    const pid = await this.pid1();
    const user = asRoot ? { uid: 0, gid: 0 } : this.user;
    const child = spawn(hostTool("nsenter"), ["--target", String(pid), "--mount", "--pid", "--root", "--wd", "--setgid", String(user.gid), "--setuid", String(user.uid), "--", ...argv], {
      env: { ...this.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const code = await new Promise<number | null>((resolve) => child.once("close", (c) => resolve(c)));
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  /** Sends a signal to the container's PID 1 from outside, as the runtime does on `docker stop` and ECS on StopTask. */
  async signal(signal: NodeJS.Signals): Promise<void> {
    process.kill(await this.pid1(), signal);
  }

  /** The container's exit code: its PID 1's (unshare --fork exits with it). */
  exited(): Promise<number | null> {
    const child = this.process;
    return new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once("exit", (code) => resolve(code))));
  }

  /** Ends the container at once: SIGKILL to its PID 1 ends every process in its PID namespace. */
  async kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    if (this.initPid) {
      try {
        process.kill(this.initPid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    this.process.kill("SIGKILL");
    await this.exited();
  }
}
