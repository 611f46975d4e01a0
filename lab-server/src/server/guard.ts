// Who may talk to a server that hands out root shells: only a browser on this machine
// (or a host name the operator named), holding this launch's token, on a page this
// server served. Checked on every HTTP request and on every WebSocket upgrade, before
// any session exists.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const COOKIE = 'stepbox_token';
/** A workshop's students: the join code they came with, and who each of them is. */
const JOIN_COOKIE = 'stepbox_join';
const STUDENT_COOKIE = 'stepbox_student';

/** Who is asking: the person who started the lab (or a workshop's instructor), or a student who joined. */
export type Role = 'instructor' | 'student';

export interface GuardOptions {
  port: number;
  /** Extra host names (with or without port) the operator allowed, e.g. for a workshop. */
  allowHosts: string[];
  /** The address the server is bound to, when not loopback. */
  boundAddress?: string;
  /** https when the lab serves TLS: the Origin a page of ours sends, and Secure cookies. */
  scheme?: 'http' | 'https';
  /** A workshop's join code: who holds it may join as a student. */
  joinCode?: string;
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
    return origin.toLowerCase() === `${this.opts.scheme ?? 'http'}://${req.headers.host.toLowerCase()}`;
  }

  tokenOk(candidate: string | null | undefined): boolean {
    return same(candidate, this.token);
  }

  joinOk(candidate: string | null | undefined): boolean {
    return this.opts.joinCode !== undefined && same(candidate, this.opts.joinCode);
  }

  /** The instructor's token wins; a student needs both the join code and an identity. */
  role(req: IncomingMessage): Role | null {
    if (this.tokenOk(readCookie(req.headers.cookie, COOKIE))) return 'instructor';
    if (this.joinOk(readCookie(req.headers.cookie, JOIN_COOKIE)) && this.student(req)) return 'student';
    return null;
  }

  /** The secret a joined student's browser holds (checked against the roster by its owner). */
  student(req: IncomingMessage): string | null {
    return readCookie(req.headers.cookie, STUDENT_COOKIE);
  }

  private attrs(sameSite: 'Strict' | 'Lax'): string {
    return `HttpOnly; SameSite=${sameSite}; Path=/${this.opts.scheme === 'https' ? '; Secure' : ''}`;
  }

  setCookie(): string {
    return `${COOKIE}=${this.token}; ${this.attrs('Strict')}`;
  }

  /**
   * A student's cookies. Lax, not Strict: a join link is opened from a chat or a QR code,
   * another site, and a Strict cookie would not go with the redirect that follows. Lax
   * cookies go only with top-level GETs from elsewhere, which read nothing private.
   */
  setStudentCookies(secret: string): string[] {
    return [`${JOIN_COOKIE}=${this.opts.joinCode}; ${this.attrs('Lax')}; Max-Age=86400`, `${STUDENT_COOKIE}=${secret}; ${this.attrs('Lax')}; Max-Age=86400`];
  }
}

function same(candidate: string | null | undefined, secret: string): boolean {
  if (!candidate) return false;
  const a = Buffer.from(candidate);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return null;
}
