// The C helper's chapter code (lab-server/native/steps.c), cut into the regions that each
// step kind runs. The helper marks them itself with comment lines `// [step:<kind>]` …
// `// [/step]`, so the page shows the code that is actually compiled, never a copy that
// could drift from it.
import type { Call } from './protocol.ts';
import { escapeHtml } from './markdown.ts';

export interface SourceLine {
  /** 1-based line number in steps.c. */
  no: number;
  text: string;
}

/** One marked region; a kind may have several (e.g. a helper function and its caller). */
export type Region = SourceLine[];

const OPEN = /^\s*\/\/\s*\[step:([a-z0-9-]+)\]/;
const CLOSE = /^\s*\/\/\s*\[\/step\]/;

export function parseRegions(source: string): Map<string, Region[]> {
  const regions = new Map<string, Region[]>();
  // Regions may nest or share lines (one function serving two kinds): track every open one.
  const open = new Map<string, Region>();
  source.split('\n').forEach((text, i) => {
    const start = OPEN.exec(text);
    if (start) {
      open.set(start[1]!, []);
      return;
    }
    if (CLOSE.test(text)) {
      // `// [/step]` closes the most recently opened region.
      const last = [...open.keys()].pop();
      if (last !== undefined) {
        const list = regions.get(last) ?? [];
        list.push(open.get(last)!);
        regions.set(last, list);
        open.delete(last);
      }
      return;
    }
    for (const region of open.values()) region.push({ no: i + 1, text });
  });
  for (const list of regions.values()) for (const r of list) dedent(r);
  return regions;
}

/** Remove the indentation every line of a region shares, so a nested block starts at the margin. */
function dedent(region: Region): void {
  const indents = region.filter((l) => l.text.trim() !== '').map((l) => /^[\t ]*/.exec(l.text)![0]);
  if (indents.length === 0) return;
  let common = indents[0]!;
  for (const s of indents) while (!s.startsWith(common)) common = common.slice(0, -1);
  if (common) for (const l of region) l.text = l.text.startsWith(common) ? l.text.slice(common.length) : l.text;
}

// ---------------------------------------------------------------------------------------
// A small C highlighter: enough for steps.c's comments, strings, keywords and calls.

type TokenKind = 'comment' | 'string' | 'keyword' | 'number' | 'preproc' | 'call' | 'macro' | 'plain';

const KEYWORDS = new Set(
  'if else for while do return break continue switch case default goto sizeof static const struct union enum typedef extern volatile unsigned signed long short int char void bool size_t ssize_t pid_t uid_t gid_t true false NULL'.split(' '),
);

interface Token {
  kind: TokenKind;
  text: string;
}

/**
 * Tokenise one line. `inComment` carries a block comment across lines: pass the value
 * the previous line returned.
 */
export function tokenizeC(line: string, inComment: boolean): { tokens: Token[]; inComment: boolean } {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, text: string) => {
    const last = tokens[tokens.length - 1];
    if (last && last.kind === kind && kind === 'plain') last.text += text;
    else tokens.push({ kind, text });
  };
  if (!inComment && /^\s*#/.test(line)) {
    // A preprocessor line, but its trailing comment is still a comment.
    const c = line.search(/\/[*/]/);
    push('preproc', c < 0 ? line : line.slice(0, c));
    if (c < 0) return { tokens, inComment };
    i = c;
  }
  while (i < line.length) {
    if (inComment) {
      const end = line.indexOf('*/', i);
      const stop = end < 0 ? line.length : end + 2;
      push('comment', line.slice(i, stop));
      i = stop;
      inComment = end < 0;
      continue;
    }
    const rest = line.slice(i);
    if (rest.startsWith('//')) {
      push('comment', rest);
      break;
    }
    if (rest.startsWith('/*')) {
      inComment = true;
      push('comment', '/*');
      i += 2;
      continue;
    }
    const c = line[i]!;
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < line.length && line[j] !== c) j += line[j] === '\\' ? 2 : 1;
      push('string', line.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    const word = /^[A-Za-z_]\w*/.exec(rest);
    if (word) {
      const w = word[0];
      const after = line.slice(i + w.length);
      if (KEYWORDS.has(w)) push('keyword', w);
      else if (/^\s*\(/.test(after)) push('call', w);
      else if (/^[A-Z][A-Z0-9_]+$/.test(w)) push('macro', w);
      else push('plain', w);
      i += w.length;
      continue;
    }
    const num = /^(0x[0-9a-fA-F]+|\d+)[uUlL]*/.exec(rest);
    if (num) {
      push('number', num[0]);
      i += num[0].length;
      continue;
    }
    push('plain', c);
    i++;
  }
  return { tokens, inComment };
}

export interface RenderedLine extends SourceLine {
  html: string;
  /** The line with strings and comments blanked out: what the compiler calls. */
  code: string;
}

export function renderRegion(region: Region): RenderedLine[] {
  let inComment = false;
  return region.map((l) => {
    const r = tokenizeC(l.text, inComment);
    inComment = r.inComment;
    const html = r.tokens.map((t) => (t.kind === 'plain' ? escapeHtml(t.text) : `<span class="c-${t.kind}">${escapeHtml(t.text)}</span>`)).join('');
    const code = r.tokens.map((t) => (t.kind === 'comment' || t.kind === 'string' ? ' '.repeat(t.text.length) : t.text)).join('');
    return { ...l, html, code };
  });
}

// ---------------------------------------------------------------------------------------
// Which lines ran.

/** `pivot_root("/a", "/b")` → "pivot_root"; `write(open(…))` → "write". */
export function callName(call: string): string | null {
  return /^\s*([A-Za-z_]\w*)\s*\(/.exec(call)?.[1] ?? null;
}

/** main: the call the step is about; ok: a call that prepared or tidied; fail: a call that failed. */
export type LineMark = 'main' | 'ok' | 'fail';

/** A call the kernel refused, or one that reported an errno even with a usable return value. */
export const callFailed = (c: Call): boolean => c.ret < 0 || c.errno !== '';
const RANK: Record<LineMark, number> = { ok: 0, main: 1, fail: 2 };

/**
 * Mark the lines of a region where each call was made. A call's line is the one whose
 * code (not a string: the helper also prints each call) names the function, or its
 * syscall number for calls glibc has no wrapper for (`syscall(SYS_pivot_root, …)`).
 * A call spread over several lines marks them all, up to its closing parenthesis.
 */
export function markCalls(lines: RenderedLine[], calls: readonly Call[], main?: Call): Map<number, LineMark> {
  const marks = new Map<number, LineMark>();
  for (const call of calls) {
    const name = callName(call.call);
    if (!name) continue;
    const pattern = new RegExp(`(?<![\\w.>])(${name}\\s*\\(|SYS_${name}\\b)`);
    const kind: LineMark = callFailed(call) ? 'fail' : call === main ? 'main' : 'ok';
    lines.forEach((line, idx) => {
      const m = pattern.exec(line.code);
      if (!m) return;
      let depth = 0;
      for (let j = idx, from = m.index; j < lines.length && j < idx + 8; j++, from = 0) {
        const mark = marks.get(lines[j]!.no);
        // Several calls can share a line (a loop): a failure wins, then the main call.
        if (mark === undefined || RANK[kind] > RANK[mark]) marks.set(lines[j]!.no, kind);
        for (const ch of lines[j]!.code.slice(from)) depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
        if (depth <= 0) break;
      }
    });
  }
  return marks;
}

// ---------------------------------------------------------------------------------------

let loading: Promise<Map<string, Region[]> | null> | null = null;

/** Fetch and cut the helper's source once per page; null when the server does not offer it. */
export function loadRegions(): Promise<Map<string, Region[]> | null> {
  loading ??= fetch('api/source/steps.c', { credentials: 'same-origin' })
    .then(async (r) => (r.ok ? parseRegions(await r.text()) : null))
    .catch(() => null)
    .then((regions) => {
      // Let a later view try again after a failure (e.g. the server restarting).
      if (regions === null) loading = null;
      return regions;
    });
  return loading;
}

/** One line of C (or a call as the helper prints it) as highlighted HTML. */
export function highlightC(line: string): string {
  return renderRegion([{ no: 0, text: line }])[0]!.html;
}
