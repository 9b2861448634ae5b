// Only node builtins: the root's jest tests import this file too (test/support/processes.ts).
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Ports the kernel never hands out on its own: below the ephemeral range that outgoing
 * connections (and listen(0)) draw from, so a port found free here cannot be taken by some
 * test's fetch or Redis client before the process it is meant for binds it.
 */
function portsOutsideEphemeralRange(): [number, number] {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (low > 12_000) return [10_000, low - 1];
  } catch {
    // not Linux: fall through to the range IANA leaves unassigned to services
  }
  return [20_000, 32_767];
}
const [PORT_LOW, PORT_HIGH] = portsOutsideEphemeralRange();
/** Ports this process has handed out, so that two starts running together never share one. */
const handedOut = new Set<number>();

/** A port that is free now, outside the ephemeral range, and not handed out before by this process. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW + 1));
    if (handedOut.has(port)) continue;
    const s = createServer();
    const bound = await new Promise<boolean>((done) => {
      s.once('error', () => done(false));
      s.listen(port, '127.0.0.1', () => done(true));
    });
    if (!bound) continue;
    await new Promise((r) => s.close(r));
    handedOut.add(port);
    return port;
  }
}

