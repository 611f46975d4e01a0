// Lesson bodies are Markdown. They come from the lesson files on the server, but the
// page still renders raw HTML in them as text: a lesson needs no HTML, and that keeps
// one bad file from ever injecting script into the page.
import { Marked } from 'marked';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const marked = new Marked({
  gfm: true,
  renderer: {
    html: ({ text }) => escapeHtml(text),
  },
});

const cache = new Map<string, string>();

export function renderMarkdown(source: string): string {
  let html = cache.get(source);
  if (html === undefined) {
    html = marked.parse(source, { async: false });
    cache.set(source, html);
  }
  return html;
}

const inlineCache = new Map<string, string>();

/** One line of Markdown without a paragraph around it: task titles and hints. */
export function renderInline(source: string): string {
  let html = inlineCache.get(source);
  if (html === undefined) {
    html = marked.parseInline(source, { async: false });
    inlineCache.set(source, html);
  }
  return html;
}
