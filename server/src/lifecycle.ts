import type { ServerResponse } from 'node:http';

/**
 * Where the process is in its shutdown. From SIGTERM on, every response says `Connection: close`,
 * including those of requests that started before it, so no client reuses a connection that the
 * listener will close (a reused one is reset).
 */
export class Lifecycle {
  /** SIGTERM received: readiness answers 503 so the load balancer stops routing here. */
  draining = false;
  private readonly unsent = new Set<ServerResponse>();

  /** Called as each response begins: it will say `Connection: close` if draining starts before its headers go. */
  track(res: ServerResponse): void {
    if (this.draining) return void res.setHeader('connection', 'close');
    this.unsent.add(res);
    res.once('close', () => this.unsent.delete(res));
  }

  drain(): void {
    this.draining = true;
    for (const res of this.unsent) {
      if (!res.headersSent) res.setHeader('connection', 'close');
      // An event stream whose headers already said keep-alive: close right after its last byte, so
      // the client sees the close before it could reuse the connection.
      else res.once('finish', () => res.socket?.destroySoon());
    }
    this.unsent.clear();
  }
}
