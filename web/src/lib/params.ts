// The student's edits to a step's parameters ("drafts"), and their validation with the
// very schema the server uses, so a bad value is caught before it is sent.
import { z } from 'zod';
import { en as zodEn, zhCN as zodZh } from 'zod/locales';
import { StepParams, type Controller, type Limit, type StepKind } from './protocol.ts';
import type { Lang } from './prefs.svelte.ts';

export type Draft = Record<string, unknown>;

export interface Problem {
  /** Where in the parameters, dotted: "limits.2.cpus", "uid.0.count", "name". */
  path: string;
  message: string;
}

export type Validation = { ok: true; params: Draft } | { ok: false; problems: Problem[] };

let zodLang: Lang | null = null;

/** Zod's own messages ("expected a number…") follow the page's language. */
function useZodLanguage(lang: Lang): void {
  if (zodLang === lang) return;
  z.config(lang === 'zh' ? zodZh() : zodEn());
  zodLang = lang;
}

export function validate(kind: StepKind, draft: Draft, lang: Lang): Validation {
  useZodLanguage(lang);
  const r = (StepParams[kind] as z.ZodType<Draft>).safeParse(draft);
  if (r.success) return { ok: true, params: draft };
  return {
    ok: false,
    problems: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  };
}

/** A deep copy that the page can edit without touching the lesson it came from. */
export function cloneParams(params: Draft): Draft {
  return JSON.parse(JSON.stringify(params)) as Draft;
}

export function sameParams(a: Draft, b: Draft): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** What a newly ticked "limit" box starts from, for each controller that has a limit. */
export const LIMIT_DEFAULTS: Record<Limit['controller'], Limit> = {
  cpu: { controller: 'cpu', quotaUs: 50000, periodUs: 100000 },
  cpuset: { controller: 'cpuset', cpus: '0', mems: '0' },
  blkio: { controller: 'blkio', writeBps: 10485760 },
  memory: { controller: 'memory', maxBytes: 268435456 },
  devices: { controller: 'devices', deny: ['c 1:7 rwm'], allow: [] },
  freezer: { controller: 'freezer', state: 'THAWED' },
  pids: { controller: 'pids', max: 64 },
  net_cls: { controller: 'net_cls', classid: '10:1' },
  net_prio: { controller: 'net_prio', priorities: [{ dev: 'lo', prio: 5 }] },
  hugetlb: { controller: 'hugetlb', pageSize: '2MB', maxBytes: 4194304 },
};

/** Controllers that only account (cpuacct, perf_event) have nothing to limit. */
export function hasLimit(c: Controller): c is Limit['controller'] {
  return c in LIMIT_DEFAULTS;
}

/**
 * An <input>'s text as the schema wants it: a number when it is one, the word "max"
 * as itself, an empty field as "not set" (undefined); anything else stays text so
 * that validation can say what is wrong with it.
 */
export function fromInput(text: string): number | string | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  if (/^-?\d+$/.test(s)) return Number(s);
  return s;
}

export function toInput(value: unknown): string {
  return value === undefined || value === null ? '' : String(value);
}

/** Whether a field at `path` (or something inside it) has a problem. */
export function hasProblem(v: Validation, path: string): boolean {
  return !v.ok && v.problems.some((p) => p.path === path || p.path.startsWith(`${path}.`));
}
