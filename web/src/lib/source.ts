// The C helper's chapter code (lab-server/native/steps.c), cut into the regions that each
// step kind runs. The helper marks them itself with comment lines `// [step:<kind>]` …
// `// [/step]`, so the page shows the code that is actually compiled, never a copy that
// could drift from it.
import type { Call, StepKind } from './protocol.ts';
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
  /** The line with only its comments blanked out: the arguments as written. */
  bare: string;
}

export function renderRegion(region: Region): RenderedLine[] {
  let inComment = false;
  return region.map((l) => {
    const r = tokenizeC(l.text, inComment);
    inComment = r.inComment;
    const html = r.tokens.map((t) => (t.kind === 'plain' ? escapeHtml(t.text) : `<span class="c-${t.kind}">${escapeHtml(t.text)}</span>`)).join('');
    const blank = (kinds: TokenKind[]) => r.tokens.map((t) => (kinds.includes(t.kind) ? ' '.repeat(t.text.length) : t.text)).join('');
    return { ...l, html, code: blank(['comment', 'string']), bare: blank(['comment']) };
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
 * The arguments of a call, split at its top-level commas: `f(a, g(b, c), "x,y")` →
 * `a`, `g(b, c)`, `"x,y"`. `text` starts just after the opening parenthesis; the
 * arguments end at the parenthesis that closes it (or with the text).
 */
export function splitArgs(text: string): string[] {
  const args: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  let end = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c) && depth-- === 0) {
      end = i;
      break;
    } else if (c === ',' && depth === 0) {
      args.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = text.slice(start, end).trim();
  // `f()` has no arguments, not one empty one.
  return last === '' && args.length === 0 ? [] : [...args, last];
}

/**
 * An argument the source writes as a constant (a string, a number, NULL, flags ORed
 * together): the helper prints such an argument as written, so a call that shows
 * another value was made elsewhere. Anything with a variable in it may be any value.
 */
const CONSTANT = /^("(?:[^"\\]|\\.)*"|[A-Z0-9_|\s]+)$/;
const flagSet = (arg: string) =>
  arg
    .split('|')
    .map((f) => f.replace(/\s+/g, ''))
    .sort()
    .join('|');

function argsAgree(written: string[], ran: string[]): boolean {
  // The helper sometimes prints a call in another shape than its C (a struct as {…}, an
  // argv as […]): different counts say nothing.
  if (written.length !== ran.length) return true;
  return written.every((w, i) => !CONSTANT.test(w) || flagSet(w) === flagSet(ran[i]!));
}

interface CallSite {
  /** Index of its first line in the lines given, and of the line past its last. */
  from: number;
  to: number;
  /** Its arguments as written, unless it is made through syscall(SYS_<name>, …). */
  args: string[] | null;
}

/**
 * Where the source makes a call named `name`: lines whose code (not a string: the helper
 * also prints each call) names the function, or its syscall number for calls glibc has no
 * wrapper for (`syscall(SYS_pivot_root, …)`). A call spread over several lines spans
 * them all, up to its closing parenthesis.
 */
function callSites(lines: RenderedLine[], name: string): CallSite[] {
  const pattern = new RegExp(`(?<![\\w.>])(${name}\\s*\\(|SYS_${name}\\b)`);
  const sites: CallSite[] = [];
  lines.forEach((line, idx) => {
    const m = pattern.exec(line.code);
    if (!m) return;
    let depth = 0;
    let to = idx;
    let args = '';
    for (let from = m.index; to < lines.length && to < idx + 8; to++, from = 0) {
      args += lines[to]!.bare.slice(from) + ' ';
      for (const ch of lines[to]!.code.slice(from)) depth += ch === '(' ? 1 : ch === ')' ? -1 : 0;
      if (depth <= 0) {
        to++;
        break;
      }
    }
    const direct = !m[1]!.startsWith('SYS_');
    sites.push({ from: idx, to, args: direct ? splitArgs(args.slice(args.indexOf('(') + 1)) : null });
  });
  return sites;
}

/**
 * The places in `lines` that may have made `call` (see callSites). Where its name is
 * called in several places, the places whose constant arguments differ from the call's
 * are left out (`mount("devpts", …)` did not make `mount("proc", …)`); if that leaves
 * none, all of them stay.
 */
function sitesOf(lines: RenderedLine[], call: Call): CallSite[] {
  const name = callName(call.call);
  if (!name) return [];
  const sites = callSites(lines, name);
  const ran = splitArgs(call.call.slice(call.call.indexOf('(') + 1));
  const agreeing = sites.filter((s) => s.args === null || argsAgree(s.args, ran));
  return agreeing.length ? agreeing : sites;
}

/** Mark the lines of a region where each call was made. */
export function markCalls(lines: RenderedLine[], calls: readonly Call[], main?: Call): Map<number, LineMark> {
  const marks = new Map<number, LineMark>();
  for (const call of calls) {
    const kind: LineMark = callFailed(call) ? 'fail' : call === main ? 'main' : 'ok';
    for (const site of sitesOf(lines, call)) {
      for (let j = site.from; j < site.to; j++) {
        const no = lines[j]!.no;
        const mark = marks.get(no);
        // Several calls can share a line (a loop): a failure wins, then the main call.
        if (mark === undefined || RANK[kind] > RANK[mark]) marks.set(no, kind);
      }
    }
  }
  return marks;
}

/**
 * The call each step kind run by the helper is about, by its name in steps.c: the C
 * side of protocol/calls.ts's main calls. Before a step has run, its code opens here.
 */
export const MAIN_CALL: Partial<Record<StepKind, string>> = {
  clone: 'clone',
  hostname: 'sethostname',
  propagation: 'mount',
  'bind-root': 'mount',
  'pivot-root': 'pivot_root',
  chroot: 'chroot',
  mount: 'mount',
  'detach-old-root': 'umount2',
  unshare: 'unshare',
  mask: 'mount',
  caps: 'capset',
  'no-new-privs': 'prctl',
  seccomp: 'seccomp',
  rlimit: 'setrlimit',
  exec: 'execve',
};

/** Lines `from`…`to` (line numbers, both included) of a region. */
export interface LineSpan {
  from: number;
  to: number;
}

/**
 * The lines the code box centres on. After a step ran: where its main call was made
 * (protocol's mainCall: the step's own call, or the failure that stopped it), else the
 * first failed call, else the first that ran; a call spread over several lines spans them
 * all. Before: the first place the kind's main call is made (a region may open with a
 * helper, as clone's does with the time namespace's). Undefined when there is neither.
 */
export function focusSpan(lines: RenderedLine[], kind: StepKind, calls: readonly Call[] = [], main?: Call): LineSpan | undefined {
  const failed = calls.filter(callFailed);
  for (const call of [...(main ? [main] : []), ...failed, ...calls]) {
    const site = sitesOf(lines, call)[0];
    if (site) return { from: lines[site.from]!.no, to: lines[site.to - 1]!.no };
  }
  const name = MAIN_CALL[kind];
  const site = name ? callSites(lines, name)[0] : undefined;
  return site && { from: lines[site.from]!.no, to: lines[site.to - 1]!.no };
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
