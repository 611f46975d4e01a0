// A client that speaks the page's protocol over a real WebSocket, for the server tests:
// what a tab sends, and every message it gets back, kept in order.
import WebSocket from 'ws';
import { until } from './lab.ts';

export type Message = Record<string, unknown> & { t: string };

export class PageClient {
  readonly messages: Message[] = [];
  /** Terminal bytes received, per channel. */
  readonly bytes = [0, 0];
  closeCode: number | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d, binary) => {
      if (binary) this.bytes[(d as Buffer)[0]!]! += (d as Buffer).length - 1;
      else this.messages.push(JSON.parse(d.toString()));
    });
    ws.on('close', (code) => (this.closeCode = code));
    ws.on('error', () => undefined);
  }

  /** Open a socket as the page would (its Origin and cookie). */
  static connect(base: string, cookie: string): Promise<PageClient> {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/ws`, { headers: { origin: base, cookie } });
    return new Promise((ok, fail) => {
      ws.once('open', () => ok(new PageClient(ws)));
      ws.once('unexpected-response', (_req, res) => fail(new Error(`upgrade refused: ${res.statusCode}`)));
      ws.once('error', fail);
    });
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  hello(lesson = 'book', session?: string): void {
    this.send({ t: 'hello', v: 1, lesson, cols: 80, rows: 24, ...(session ? { session } : {}) });
  }

  /** Keystrokes on a channel (0: the container's terminal, 1: peek). */
  type(text: string | Buffer, channel = 0): void {
    this.ws.send(Buffer.concat([Buffer.from([channel]), Buffer.isBuffer(text) ? text : Buffer.from(text)]));
  }

  /** The first message (from `from` on) that matches, waiting for it. */
  async next(pred: (m: Message) => boolean, ms = 10_000, from = 0): Promise<Message> {
    let found: Message | undefined;
    await until(() => (found = this.messages.slice(from).find(pred)) !== undefined || this.closeCode !== null, ms);
    if (!found) throw new Error(`no matching message in ${ms} ms (closed: ${this.closeCode}); got ${this.messages.map((m) => m.t).join(', ')}`);
    return found;
  }

  results(): { ok: boolean; stepId: string; snapshot: { hostPid: number } }[] {
    return this.messages.filter((m) => m.t === 'result').map((m) => m.result as { ok: boolean; stepId: string; snapshot: { hostPid: number } });
  }

  /** Run steps one by one and wait for each result; throws on the first that fails. */
  async run(...stepIds: string[]): Promise<void> {
    for (const stepId of stepIds) {
      const from = this.messages.length;
      this.send({ t: 'run', stepId });
      const m = await this.next((x) => x.t === 'result' && (x.result as { stepId: string }).stepId === stepId, 20_000, from);
      const r = m.result as { ok: boolean; refusal?: unknown; calls: { ret: number }[] };
      if (!r.ok) throw new Error(`${stepId} failed: ${JSON.stringify(r.refusal ?? r.calls.filter((c) => c.ret < 0))}`);
    }
  }

  close(): Promise<void> {
    if (this.closeCode !== null) return Promise.resolve();
    return new Promise((ok) => {
      this.ws.once('close', () => ok());
      this.ws.close();
    });
  }
}
