// The lab's web server: the built page over HTTP, sessions over one WebSocket per tab.
// Every request passes the guard first; a WebSocket upgrade that fails it is refused
// before the WebSocket exists, let alone a session. Any page the student visits can send
// requests here, so nothing a request holds is parsed before the Host check, and no
// request can throw out of its handler: whatever goes wrong answers, and the lab lives on.
import { readFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { STEPPER } from '../helper/client.ts';
import { listLessons, loadLesson } from '../lessons/load.ts';
import { MAX_MESSAGE_BYTES } from '../protocol/messages.ts';
import type { Lab } from '../session/lab.ts';
import { Connection } from './connection.ts';
import { Guard, type Role } from './guard.ts';
import type { Room } from './room.ts';
import { Hub } from './hub.ts';
import { defaultMaxSessions, maxConnections } from './limits.ts';
import { exportSession } from './export-route.ts';
import { serveStatic } from './static.ts';
import { parseTarget } from './target.ts';
import { openMirror } from './mirror.ts';
import { action, dashboard, join, json, mirrored } from './room-routes.ts';

export interface ServeOptions {
  host: string;
  port: number;
  allowHosts: string[];
  graceSeconds: number;
  /** A seat nobody used this long is put away even with its tab open (a workshop), in ms; 0: never. */
  seatExpireMs?: number;
  /** Sessions at once (default: sized to this machine's CPUs and memory). */
  maxSessions?: number;
  /** Serve HTTPS with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** Serve a workshop: students join by its link, the instructor holds the token. */
  workshop?: Room;
  /** The name or address students reach this machine by, for the printed links. */
  publicHost?: string;
}

/** Who a connection is: the role its cookies gave, and the joined student's roster secret. */
export interface Visitor {
  role: Role;
  student: string | null;
}

const HEADERS = {
  'content-security-policy': "default-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

// The helper's chapter code, which the page shows as the code each step ran: this one file only.
const SOURCE = STEPPER.replace(/build\/stepper$/, 'steps.c');

export class LabServer {
  readonly hub: Hub;
  private guard!: Guard;
  private readonly http: Server;
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  private readonly maxSockets: number;

  constructor(
    lab: Lab,
    private readonly opts: ServeOptions,
  ) {
    this.hub = new Hub(lab, { graceSeconds: opts.graceSeconds, maxSessions: opts.maxSessions ?? defaultMaxSessions(), seatExpireMs: opts.seatExpireMs });
    this.maxSockets = maxConnections(this.hub.maxSessions);
    // A client that trickles its headers holds a socket: not for long.
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      try {
        this.request(req, res);
      } catch (e) {
        this.failed(e);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end();
      }
    };
    const limits = { headersTimeout: 10_000, requestTimeout: 30_000 };
    this.http = opts.tls ? createHttps({ ...limits, cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttp(limits, handler);
    this.http.maxConnections = this.maxSockets * 4;
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      try {
        this.upgrade(req, socket, head);
      } catch (e) {
        this.failed(e);
        socket.destroy();
      }
    });
    // Node hands CONNECT to its own event and, with no listener, drops the socket unanswered.
    this.http.on('connect', (_req: IncomingMessage, socket: Duplex) => {
      socket.on('error', () => socket.destroy());
      socket.end('HTTP/1.1 405 Method Not Allowed\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    this.wss.on('connection', (ws, req: IncomingMessage) => new Connection(ws, this.hub, this.visitor(req)!, opts.workshop));
  }

  /** A bug, not a client's fault: said on stderr, and the request answered 500. */
  private failed(e: unknown): void {
    console.error(`[stepbox] a request failed: ${(e as Error).stack ?? e}`);
  }

  /** Listen, then learn the port (0 picks a free one) and make the guard for it. */
  async listen(): Promise<string> {
    await new Promise<void>((ok, fail) =>
      this.http
        .once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'EADDRINUSE' ? new Error(`port ${this.opts.port} on ${this.opts.host} is taken (another stepbox?): stop it, or pass --port`) : e))
        .listen(this.opts.port, this.opts.host, ok),
    );
    const port = (this.http.address() as AddressInfo).port;
    const loopback = ['127.0.0.1', '::1', 'localhost'].includes(this.opts.host);
    const scheme = this.opts.tls ? 'https' : 'http';
    this.guard = new Guard({ port, allowHosts: this.opts.allowHosts, boundAddress: loopback ? undefined : this.opts.host, scheme, joinCode: this.opts.workshop?.joinCode });
    this.origin = `${scheme}://${this.opts.publicHost ?? hostForUrl(this.opts.host)}:${port}`;
    return `${this.origin}/?token=${this.guard.token}`;
  }

  /** scheme://host:port, as the printed links name this server. */
  origin = '';

  /**
   * Who the request is, or null. A student's cookie must name a student this run of the
   * workshop knows: after a restart, old cookies join nobody and the join link is asked for.
   */
  private visitor(req: IncomingMessage): Visitor | null {
    const role = this.guard.role(req);
    if (role === 'instructor') return { role, student: null };
    if (role === 'student' && this.opts.workshop?.student(this.guard.student(req))) return { role, student: this.guard.student(req) };
    return null;
  }

  private request(req: IncomingMessage, res: ServerResponse): void {
    for (const [k, v] of Object.entries(HEADERS)) res.setHeader(k, v);
    if (!this.guard.hostOk(req)) return void res.writeHead(421, { 'content-type': 'text/plain' }).end('Unknown Host header.\n');
    if (req.method === 'POST') {
      const allowed = { origin: this.guard.originOk(req), instructor: this.visitor(req)?.role === 'instructor' };
      return action(this.opts.workshop, this.hub, req, res, parseTarget(req.url)?.path ?? null, allowed, (e) => this.failed(e));
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405).end();
    const url = parseTarget(req.url);
    if (!url) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request target.\n');
    if (url.path === '/join') return join(this.opts.workshop, this.guard, req, res, url.query.get('code'));
    const token = url.query.get('token');
    if (token !== null) {
      if (!this.guard.tokenOk(token)) return void res.writeHead(403, { 'content-type': 'text/plain' }).end('Wrong token: use the URL stepbox serve printed.\n');
      // Trade the token for a cookie, and drop it from the address bar and history.
      return void res.writeHead(303, { 'set-cookie': this.guard.setCookie(), location: url.path === '/dashboard' ? '/dashboard' : '/' }).end();
    }
    const who = this.visitor(req);
    if (!who) {
      res.writeHead(401, { 'content-type': 'text/html; charset=utf-8' });
      const page = this.opts.workshop
        ? '<p>Open the join link your instructor gave you.</p><p>请打开讲师给你的加入链接。</p>'
        : '<p>Open the address that <code>stepbox serve</code> printed (it carries a one-time token).</p><p>请打开 <code>stepbox serve</code> 打印出的地址（其中带有一次性令牌）。</p>';
      return void res.end(`<!doctype html><meta charset="utf-8"><title>stepbox</title>${page}\n`);
    }
    if (dashboard(this.opts.workshop, who.role === 'instructor', url.path, res)) return;
    if (url.path === '/api/lessons') return json(res, listLessons().map((id) => ({ id, title: loadLesson(id).title })));
    if (url.path === '/api/source/steps.c') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end(readFileSync(SOURCE));
    }
    const exported = /^\/api\/export\/([A-Za-z0-9_-]{24})\.tar\.gz$/.exec(url.path);
    if (exported) {
      const own = who.role === 'instructor' ? () => true : (entry: string) => this.opts.workshop?.student(who.student)?.entry === entry;
      // Its own failures it answers itself; anything else ends this answer, never the server.
      return void exportSession(this.hub, exported[1]!, own, res).catch(() => res.destroy());
    }
    if (url.path.startsWith('/api/')) return void res.writeHead(404).end();
    serveStatic(url.path, res, req.headers['accept-encoding']);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (!this.guard.hostOk(req)) return refuse(421, 'Misdirected Request');
    const target = parseTarget(req.url);
    if (target?.path !== '/ws' && target?.path !== '/mirror') return refuse(404, 'Not Found');
    if (!this.guard.originOk(req)) return refuse(403, 'Forbidden Origin');
    const who = this.visitor(req);
    if (!who) return refuse(401, 'Unauthorized');
    if (this.wss.clients.size >= this.maxSockets) return refuse(503, 'Too Many Connections');
    if (target.path === '/ws') return void this.wss.handleUpgrade(req, socket, head, (ws) => this.wss.emit('connection', ws, req));
    // /mirror?student=<id>: the instructor watches one student's terminal.
    if (who.role !== 'instructor' || !this.opts.workshop) return refuse(403, 'Forbidden');
    const entry = mirrored(this.opts.workshop, this.hub, target.query.get('student'));
    if (!entry) return refuse(404, 'Not Found');
    this.wss.handleUpgrade(req, socket, head, (ws) => openMirror(ws, entry));
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await this.hub.closeAll();
    // Keep-alive connections of the page would hold close() open until they time out.
    const closed = new Promise<void>((ok) => this.http.close(() => ok()));
    this.http.closeAllConnections();
    await closed;
  }
}

/** The host part of a printed link: a wildcard address names this machine's loopback. */
function hostForUrl(host: string): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown;
}
