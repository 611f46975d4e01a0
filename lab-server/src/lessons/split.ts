// One lesson file's text split into its YAML front matter and its `::: en` / `::: zh`
// sections. A file that cannot be split says why and yields nothing; every other problem
// is noted and the split goes on, so one run names all of them.
import { parse as parseYaml } from 'yaml';
import type { Problems } from './problems.ts';

export const LANGS = ['en', 'zh'] as const;
export type Lang = (typeof LANGS)[number];

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface SplitFile {
  front: Obj;
  /** The sections found, trimmed; a missing one is absent, an empty one ''. */
  body: Partial<Record<Lang, string>>;
}

export function splitFile(text: string, file: string, p: Problems): SplitFile | null {
  if (text.includes('\r\n')) {
    p.error(file, 'the file has Windows line endings (CRLF); save it with Unix line endings (LF)');
    return null;
  }
  const m = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(text);
  if (!m) {
    p.error(file, 'no front matter: the file must start with a line ---, then its fields, then another line ---');
    return null;
  }
  let front: unknown;
  try {
    front = parseYaml(m[1]!) ?? {};
  } catch (e) {
    const err = e as Error & { linePos?: { line: number }[] };
    const line = err.linePos?.[0]?.line;
    const msg = err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    // The YAML parser counts from the first field; the instructor's editor counts from ---.
    p.error(file, `the front matter is not valid YAML${line ? ` (line ${line + 1})` : ''}: ${msg}`);
    return null;
  }
  if (!isObj(front)) {
    p.error(file, 'the front matter must be fields (name: value lines)');
    return null;
  }
  return { front, body: sections(m[2]!, m[1]!.split('\n').length + 3, file, p) };
}

/** Line by line rather than by one pattern, so a missing or unclosed marker is named where it is. */
function sections(text: string, firstLine: number, file: string, p: Problems): SplitFile['body'] {
  const body: SplitFile['body'] = {};
  let open: { lang: string; line: number; lines: string[] } | null = null;
  let stray = 0;
  for (const [i, line] of text.split('\n').entries()) {
    const n = firstLine + i;
    if (!line.startsWith(':::')) {
      if (open) open.lines.push(line);
      else if (line.trim()) stray = stray || n;
    } else if (line === ':::') {
      if (!open) p.error(file, `line ${n}: ::: closes a section that was never opened`);
      else if (open.lang === 'en' || open.lang === 'zh') {
        if (body[open.lang] !== undefined) p.error(file, `line ${open.line}: a second "::: ${open.lang}" section; a file has one of each`);
        else body[open.lang] = open.lines.join('\n').trim();
      }
      open = null;
    } else if (open) {
      p.error(file, `line ${n}: "${line}" inside the "::: ${open.lang}" section opened on line ${open.line}; close that one with a line ::: first`);
    } else {
      const lang = /^::: *([a-z]+)$/.exec(line)?.[1];
      if (!lang) p.error(file, `line ${n}: "${line}" is not a section marker; write ::: en or ::: zh alone on the line`);
      else {
        if (lang !== 'en' && lang !== 'zh') p.error(file, `line ${n}: "::: ${lang}" is not a language of the lab; the sections are ::: en and ::: zh`);
        open = { lang, line: n, lines: [] };
      }
    }
  }
  if (open) p.error(file, `the "::: ${open.lang}" section opened on line ${open.line} is never closed; end it with a line :::`);
  if (stray) p.warn(file, `line ${stray}: text outside the ::: en and ::: zh sections is not shown to the student`);
  for (const lang of LANGS) {
    if (body[lang] === undefined) p.error(file, `no "::: ${lang}" section; every file has one English and one Chinese section`);
    else if (!body[lang]) p.error(file, `the "::: ${lang}" section is empty`);
  }
  return body;
}
