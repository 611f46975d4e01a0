// Lesson bodies are Markdown. They come from the lesson files on the server, but the
// page still renders raw HTML in them as text: a lesson needs no HTML, and that keeps
// one bad file from ever injecting script into the page.
import { Marked } from 'marked';
import { commandOf } from './command-chips.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * How a lesson's commands (`$ command`) are drawn: labels in the page's language, and
 * whether a shell is there to type into. Without one a command is code with a copy button.
 */
export interface ChipWords {
  shell: boolean;
  /** "{cmd}" stands for the command. */
  type: string;
  copy: string;
}

/** Set for the length of one synchronous parse: marked's renderer has no per-call options. */
let words: ChipWords | null = null;

const COPY_ICON = '<svg viewBox="0 0 24 24" width="13" height="13" aria-hidden="true"><rect x="8" y="8" width="12" height="12" rx="2" /><path d="M16 8V5.5A1.5 1.5 0 0 0 14.5 4h-9A1.5 1.5 0 0 0 4 5.5v9A1.5 1.5 0 0 0 5.5 16H8" /></svg>';

function chip(command: string, w: ChipWords): string {
  const cmd = escapeHtml(command);
  const label = (template: string) => escapeHtml(template.replace('{cmd}', command));
  const copy = `<button type="button" class="cmd-copy" data-copy="${cmd}" aria-label="${label(w.copy)}" title="${label(w.copy)}">${COPY_ICON}</button>`;
  const body = w.shell ? `<button type="button" class="cmd-type" data-command="${cmd}" aria-label="${label(w.type)}" title="${label(w.type)}"><code>${cmd}</code></button>` : `<code>${cmd}</code>`;
  return `<span class="cmd">${body}${copy}</span>`;
}

const marked = new Marked({
  gfm: true,
  renderer: {
    html: ({ text }) => escapeHtml(text),
    codespan: ({ text }) => {
      const command = words && commandOf(text);
      // Without the page's words (a caller that wants plain text), a command is its own code.
      if (command === null || command === undefined) return false;
      return chip(command, words!);
    },
  },
});

const cache = new Map<string, string>();

function cached(source: string, chips: ChipWords | undefined, parse: (s: string) => string): string {
  const key = `${chips ? JSON.stringify(chips) : ''}\u0000${source}`;
  let html = cache.get(key);
  if (html === undefined) {
    words = chips ?? null;
    try {
      html = parse(source);
    } finally {
      words = null;
    }
    cache.set(key, html);
  }
  return html;
}

export function renderMarkdown(source: string, chips?: ChipWords): string {
  return cached(source, chips, (s) => marked.parse(s, { async: false }));
}

/** One line of Markdown without a paragraph around it: task titles and hints. */
export function renderInline(source: string, chips?: ChipWords): string {
  return cached(source, chips, (s) => marked.parseInline(s, { async: false }));
}
