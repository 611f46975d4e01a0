// One shell behind each web terminal, driven the way its own page drives it, so the terminal
// benchmark can time them alike. Every relay hands output to one listener as it arrives:
// the benchmark waits on those events, never by polling, which would take a core of its own
// from the relay it measures.
import * as pty from 'node-pty';
import { PageClient } from '../test/support/page-client.ts';
import { startServer, stopServer } from '../test/support/served.ts';
import { type Peer, socketIoClient, startShellinabox, startWetty } from './peers.ts';

export interface Relay {
  name: string;
  /** Keystrokes, as the page sends them. */
  type(text: string): void;
  /** Called with each piece of output: its length in bytes and the end of its text (64 characters are enough for a marker). */
  onOutput: (bytes: number, text: string) => void;
  close(): Promise<void>;
}

export interface Shell {
  /** The program and its arguments: the lab image's busybox shell. */
  argv: string[];
  env: Record<string, string>;
}

const quiet = () => undefined;

/** node-pty read in this process, nothing in between: the ceiling for a node-pty relay. */
export async function ptyAlone(shell: Shell): Promise<Relay> {
  const term = pty.spawn(shell.argv[0]!, shell.argv.slice(1), { cols: 120, rows: 40, env: shell.env, encoding: null });
  const relay: Relay = { name: 'node-pty alone, in-process', type: (t) => term.write(t), onOutput: quiet, close: async () => term.kill() };
  // With encoding null, node-pty hands over Buffers; its types still say string.
  term.onData((d) => {
    const b = d as unknown as Buffer;
    relay.onOutput(b.length, b.subarray(-64).toString('latin1'));
  });
  return relay;
}

/**
 * `stepbox serve` in its own process, the book built, its shell, a WebSocket as the page's.
 * The book's cgroup step is run without its CPU limits (half a core, pinned to CPU 0), as a
 * student may edit it: with them, `cat` itself would be throttled, and the figure would be
 * the book's quota, not the terminal's speed. Every other limit stays.
 */
export async function stepbox(): Promise<Relay & { rss(): number }> {
  const lab = await startServer({ grace: 1 });
  const c = await PageClient.connect(lab.base, lab.cookie);
  c.hello();
  const welcome = await c.next((m) => m.t === 'welcome');
  const steps = (welcome.lesson as { steps: { id: string; kind: string; params: Record<string, unknown> }[] }).steps;
  for (const step of steps) {
    const from = c.messages.length;
    const limits = step.kind === 'cgroup-create' ? (step.params.limits as { controller: string }[]) : undefined;
    const params = limits ? { ...step.params, limits: limits.filter((l) => l.controller !== 'cpu' && l.controller !== 'cpuset') } : undefined;
    c.send({ t: 'run', stepId: step.id, ...(params ? { params } : {}) });
    const m = await c.next((x) => x.t === 'result' && (x.result as { stepId: string }).stepId === step.id, 30_000, from);
    if (!(m.result as { ok: boolean }).ok) throw new Error(`book step ${step.id} failed`);
  }
  const relay = {
    name: 'stepbox serve + WebSocket',
    type: (t: string) => c.type(t),
    onOutput: quiet as Relay['onOutput'],
    rss: () => lab.rssBytes(),
    close: async () => {
      await c.close();
      await stopServer(lab.proc);
    },
  };
  c.ws.on('message', (d, binary) => {
    if (binary && (d as Buffer)[0] === 0) relay.onOutput((d as Buffer).length - 1, (d as Buffer).subarray(Math.max(1, (d as Buffer).length - 64)).toString('latin1'));
  });
  return relay;
}

/** wetty: socket.io over a WebSocket, acknowledging output as its page does for flow control. */
export async function wetty(shell: Shell): Promise<Relay> {
  const server = await startWetty(shell.argv.join(' '), shell.env);
  const io = socketIoClient();
  const socket = io(`http://127.0.0.1:${server.port}`, { path: '/wetty/socket.io', transports: ['websocket'], forceNew: true });
  const relay: Relay = {
    name: `wetty (socket.io)`,
    type: (t) => socket.emit('input', t),
    onOutput: quiet,
    close: async () => {
      socket.close();
      await server.stop();
    },
  };
  // wetty pauses the pty past 2 MiB unacknowledged; its page acks every 256 KiB it has drawn.
  let unacked = 0;
  socket.on('data', (text: string) => {
    unacked += text.length;
    if (unacked >= 262_144) socket.emit('commit', unacked), (unacked = 0);
    relay.onOutput(text.length, text.slice(-64)); // ASCII here: characters are bytes
  });
  await new Promise<void>((ok, fail) => {
    socket.once('login', () => ok());
    socket.once('connect_error', fail);
  });
  socket.emit('resize', { cols: 120, rows: 40 });
  return relay;
}

/** shellinabox: a long-polled POST for output, one POST per batch of keys, as ShellInABox.js. */
export async function shellinabox(shell: Shell): Promise<Relay> {
  const server: Peer = await startShellinabox(shell.argv.join(' '), shell.env);
  const url = `http://127.0.0.1:${server.port}/?`;
  const post = async (body: string) => {
    const r = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' } });
    return r.text();
  };
  const size = 'width=120&height=40';
  const first = JSON.parse(await post(`${size}&rooturl=${encodeURIComponent(`http://127.0.0.1:${server.port}/`)}`)) as { session: string };
  const session = encodeURIComponent(first.session);
  let open = true;
  // Keys go one request at a time; what is typed meanwhile waits and goes in the next one.
  let pending = '';
  let inFlight = false;
  const sendKeys = async () => {
    inFlight = true;
    while (pending) {
      const hex = Buffer.from(pending).toString('hex').toUpperCase();
      pending = '';
      await post(`${size}&session=${session}&keys=${hex}`);
    }
    inFlight = false;
  };
  const relay: Relay = {
    name: 'shellinabox (HTTP polling)',
    type: (t) => {
      pending += t;
      if (!inFlight) void sendKeys();
    },
    onOutput: quiet,
    close: async () => {
      open = false;
      await server.stop();
    },
  };
  void (async () => {
    while (open) {
      const text = await post(`${size}&session=${session}`).catch(() => '');
      if (!text) continue;
      const { data } = JSON.parse(text) as { data: string };
      if (data) relay.onOutput(Buffer.byteLength(data), data.slice(-64));
    }
  })();
  return relay;
}
