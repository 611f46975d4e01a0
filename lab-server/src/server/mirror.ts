// A read-only copy of one student's terminal for the workshop's instructor: the recent
// history first, then what the container's pty prints, as it prints it. The instructor's
// keys go nowhere. A mirror is lossy by design: if the instructor's socket falls behind,
// output is skipped (and said to be) rather than held in the server's memory.
import type { WebSocket } from 'ws';
import type { Entry } from './hub.ts';

/** Past this many unsent bytes, output is dropped until the socket catches up. */
const MIRROR_BACKLOG = 1024 * 1024;
/** Mirrors of one terminal at once: an instructor, an assistant, a projector. */
export const MIRRORS_PER_SESSION = 4;

export interface MirrorSink {
  data(d: Buffer): void;
  end(): void;
}

export function openMirror(ws: WebSocket, entry: Entry): void {
  if (entry.mirrors.size >= MIRRORS_PER_SESSION) return void ws.close(1008, 'too many mirrors of this terminal');
  let skipping = false;
  const send = (d: Buffer) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MIRROR_BACKLOG) {
      skipping = true;
      return;
    }
    if (skipping) {
      skipping = false;
      ws.send(Buffer.from('\r\n\x1b[90m[stepbox: output skipped while this view caught up]\x1b[0m\r\n'));
    }
    ws.send(d);
  };
  const sink: MirrorSink = { data: send, end: () => ws.close(1000, 'the session ended') };
  const term = entry.session.helper.term;
  // The size first, so the view wraps lines where the student's terminal does.
  ws.send(JSON.stringify({ cols: term.cols, rows: term.rows }));
  send(entry.history());
  entry.mirrors.add(sink);
  ws.on('message', () => undefined); // read-only: nothing a mirror sends is used
  ws.on('error', () => undefined);
  ws.on('close', () => entry.mirrors.delete(sink));
}
