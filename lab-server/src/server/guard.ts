// Who may talk to a server that hands out root shells: only a browser on this machine
// (or a host name the operator named), holding this launch's token, on a page this
// server served. Checked on every HTTP request and on every WebSocket upgrade, before
// any session exists.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const COOKIE = 'stepbox_token';

export interface GuardOptions {
  port: number;
  /** Extra host names (with or without port) the operator allowed, e.g. for a workshop. */
  allowHosts: string[];
  /** The address the server is bound to, when not loopback. */
  boundAddress?: string;
}

export class Guard {
  readonly token = randomBytes(32).toString('hex');
  private readonly hosts: Set<string>;

  constructor(private readonly opts: GuardOptions) {
    const names = ['127.0.0.1', 'localhost', '[::1]', ...opts.allowHosts];
    if (opts.boundAddress) names.push(opts.boundAddress.includes(':') ? `[${opts.boundAddress}]` : opts.boundAddress);
    // A browser sends Host with the port; a name given without one means this port.
    this.hosts = new Set(names.map((n) => (/:\d+$/.test(n) ? n.toLowerCase() : `${n.toLowerCase()}:${opts.port}`)));
  }

  /** DNS rebinding defence: a page from evil.example resolved to 127.0.0.1 still says Host: evil.example. */
  hostOk(req: IncomingMessage): boolean {
    const host = req.headers.host?.toLowerCase();
    return host !== undefined && this.hosts.has(host);
  }

  /** The page must come from exactly this server's origin; a missing or "null" Origin is refused. */
  originOk(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (!origin || origin === 'null' || !req.headers.host) return false;
    return origin.toLowerCase() === `http://${req.headers.host.toLowerCase()}`;
  }

  tokenOk(candidate: string | null | undefined): boolean {
    if (!candidate) return false;
    const a = Buffer.from(candidate);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  cookieOk(req: IncomingMessage): boolean {
    return this.tokenOk(readCookie(req.headers.cookie, COOKIE));
  }

  setCookie(): string {
    return `${COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}
