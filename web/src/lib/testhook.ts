// A read-only window into the terminals for browser tests (and for curious students in
// the devtools console): `window.__stepbox.screen(0)` is the text of the container's
// terminal, scrollback included. xterm draws on a canvas-like DOM that is awkward to
// scrape, while its buffer API gives exactly the characters shown.
import type { Terminal } from '@xterm/xterm';

export interface StepboxHook {
  /** Text of a terminal's buffer (0: container, 1: peek, 2: a workshop mirror), one line per row, trailing blanks trimmed. */
  screen(channel: number): string;
}

declare global {
  interface Window {
    __stepbox?: StepboxHook;
  }
}

/** The screen number of the instructor's read-only view of a student's terminal. */
export const MIRROR_SCREEN = 2;

const terminals = new Map<number, Terminal>();

function screen(channel: number): string {
  const term = terminals.get(channel);
  if (!term) return '';
  const buffer = term.buffer.active;
  const lines: string[] = [];
  for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
  return lines.join('\n').replace(/\n+$/, '');
}

export function exposeTerminal(channel: number, term: Terminal): () => void {
  terminals.set(channel, term);
  window.__stepbox ??= { screen };
  return () => {
    if (terminals.get(channel) === term) terminals.delete(channel);
  };
}
