// How the lab's terminals look, one set of colours per page theme: the student's terminal
// and the instructor's read-only view of it look the same.
import type { ITerminalOptions, ITheme } from '@xterm/xterm';
import type { Theme } from './prefs.svelte.ts';

// Colours chosen to sit on the page's own backgrounds; the 16 ANSI colours are tuned
// so busybox's `ls` (blue dirs, green executables, cyan links) reads in both themes.
export const TERMINAL_THEMES: Record<Theme, ITheme> = {
  light: {
    background: '#fbfbfa',
    foreground: '#1c2024',
    cursor: '#0a66c2',
    cursorAccent: '#fbfbfa',
    selectionBackground: '#b9d4f2',
    black: '#1c2024',
    red: '#b8382d',
    green: '#1b7a36',
    yellow: '#8a6100',
    blue: '#1f5fbf',
    magenta: '#9b3c9b',
    cyan: '#0f7b83',
    white: '#8a9199',
    brightBlack: '#5d646d',
    brightRed: '#d04a3e',
    brightGreen: '#23913f',
    brightYellow: '#a87700',
    brightBlue: '#2f73d8',
    brightMagenta: '#b04fb0',
    brightCyan: '#16919a',
    brightWhite: '#c5c9c2',
  },
  dark: {
    background: '#0b0d10',
    foreground: '#dfe3e7',
    cursor: '#61a8ee',
    cursorAccent: '#0b0d10',
    selectionBackground: '#2a4a6e',
    black: '#2a3037',
    red: '#f07c70',
    green: '#55c271',
    yellow: '#e2b356',
    blue: '#61a8ee',
    magenta: '#d28ee0',
    cyan: '#4cc8c8',
    white: '#c9ced4',
    brightBlack: '#6d7680',
    brightRed: '#ff9a8f',
    brightGreen: '#7ad692',
    brightYellow: '#f0c878',
    brightBlue: '#8cc0f3',
    brightMagenta: '#e2aaeb',
    brightCyan: '#7adada',
    brightWhite: '#ffffff',
  },
};

/** The options every terminal of the page shares: the page's monospace font, its colours. */
export function terminalLook(theme: Theme): ITerminalOptions {
  return {
    fontFamily: getComputedStyle(document.documentElement).getPropertyValue('--font-mono').trim() || 'monospace',
    fontSize: 13,
    lineHeight: 1.15,
    scrollback: 5000,
    // Dim text (SGR 2) and programs' own colours stay readable on either theme: xterm
    // lightens or darkens a cell's colour until it has this contrast with its background.
    minimumContrastRatio: 4.5,
    theme: TERMINAL_THEMES[theme],
  };
}
