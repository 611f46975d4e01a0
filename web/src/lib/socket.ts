// The one WebSocket between this tab and the lab server: JSON text frames for messages,
// binary frames (channel byte + bytes) for terminal data. Knows nothing about lessons.
import { Again, ClientMessage, ExitStatus, MetricsSample, frame, type Channel, type ServerMessage } from './protocol.ts';

export interface SocketHandlers {
  open(): void;
  message(msg: ServerMessage): void;
  bytes(channel: Channel, data: Uint8Array): void;
  close(code: number): void;
}

/** ws(s)://<this page's host>/ws, resolved like a link so a sub-path mount still works. */
export function socketUrl(): string {
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = '';
  return url.href;
}

export class LabSocket {
  private readonly ws: WebSocket;
  private closedByUs = false;

  constructor(handlers: SocketHandlers) {
    this.ws = new WebSocket(socketUrl());
    this.ws.binaryType = 'arraybuffer';
    this.ws.onopen = () => handlers.open();
    this.ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
      if (typeof ev.data === 'string') {
        const msg = parseServerMessage(ev.data);
        if (msg) handlers.message(msg);
        return;
      }
      const bytes = new Uint8Array(ev.data);
      const channel = bytes[0];
      if (channel === 0 || channel === 1) handlers.bytes(channel, bytes.subarray(1));
    };
    this.ws.onclose = (ev) => {
      if (!this.closedByUs) handlers.close(ev.code);
    };
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(msg: ClientMessage): void {
    // The server validates too; checking here turns a page bug into a clear console error
    // instead of a silent refusal.
    const checked = ClientMessage.safeParse(msg);
    if (!checked.success) {
      console.error('stepbox: not sending an invalid message', msg, checked.error);
      return;
    }
    if (this.isOpen) this.ws.send(JSON.stringify(checked.data));
  }

  sendBytes(channel: Channel, data: Uint8Array): void {
    // frame() allocates a fresh ArrayBuffer; the cast only narrows TypeScript's view of it.
    if (this.isOpen) this.ws.send(frame(channel, data) as Uint8Array<ArrayBuffer>);
  }

  /** Close without reporting it: the caller already knows. */
  close(): void {
    this.closedByUs = true;
    this.ws.close();
  }
}

/** Every kind the server sends; a Record, so a kind added to the protocol but not here fails the build. */
const KINDS: Record<ServerMessage['t'], true> = { welcome: true, running: true, result: true, state: true, peek: true, tasks: true, metrics: true, error: true, notice: true, idle: true, hostView: true };

/**
 * The parts that would mislead silently if malformed are checked against their schemas:
 * a sample feeds a canvas, an exit status and the steps that may run again feed what the
 * whole page says of the container's lifecycle.
 */
function checked(t: string, msg: Record<string, unknown>): boolean {
  const lifecycle = () => ExitStatus.nullable().safeParse(msg.exit).success && Again.safeParse(msg.again).success;
  switch (t) {
    case 'metrics':
      return MetricsSample.safeParse(msg.sample).success;
    case 'welcome':
      return lifecycle() && MetricsSample.array().max(600).safeParse(msg.metrics).success;
    case 'state':
      return lifecycle();
    case 'result':
      return Again.safeParse(msg.again).success;
    default:
      return true;
  }
}

/** The server is trusted, but a malformed frame should be dropped, not crash the page. */
function parseServerMessage(text: string): ServerMessage | null {
  try {
    const msg: unknown = JSON.parse(text);
    const t = typeof msg === 'object' && msg !== null ? (msg as { t?: unknown }).t : undefined;
    const fits = typeof t === 'string' && checked(t, msg as Record<string, unknown>);
    if (typeof t === 'string' && Object.hasOwn(KINDS, t) && fits) return msg as ServerMessage;
  } catch {
    // fall through
  }
  console.warn('stepbox: ignoring an unknown message from the server', text.slice(0, 200));
  return null;
}
