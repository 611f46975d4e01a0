// xterm.js is about half of the page's script, and nothing of it is needed to paint the
// lesson: it is fetched once, when the first terminal mounts, after the page has shown.
// Its style sheet (4 KB) stays in the page's, so a terminal never shows unstyled.
import type { FitAddon } from '@xterm/addon-fit';
import type { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

export interface Xterm {
  Terminal: typeof Terminal;
  FitAddon: typeof FitAddon;
}

let loading: Promise<Xterm> | undefined;

export function loadXterm(): Promise<Xterm> {
  loading ??= Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]).then(([x, f]) => ({
    Terminal: x.Terminal,
    FitAddon: f.FitAddon,
  }));
  return loading;
}
