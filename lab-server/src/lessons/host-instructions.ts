// The page gives a student a shell inside the container and a peek shell, never one on the
// host: what a lesson wants them to look at on the host is in the Host tab beside the
// terminal. So a lesson may state facts about the host ("uid 100000 on the host", "the lab
// reads cpu.stat on the host"), but an instruction to run or look at something there must
// name the Host tab. These rules find such instructions in one language's text.

const NAMES_VIEW = { en: /\bHost tab\b|\bhost view\b/i, zh: /“宿主机”标签页|宿主机标签页|“宿主机”视图/ };

/** Verbs that tell the student to do something, in the imperative. */
const EN_VERBS = 'run|type|look|see|check|read|compare|list|grep|try|open|inspect|watch|cat|ls|execute|enter';
/** The imperative at the start of a clause: the sentence's start, or after a comma, "then" or "and then". */
const EN_IMPERATIVE = new RegExp(`(?:^|[,(]\\s*|\\bthen\\s+)(?:then\\s+|now\\s+|also\\s+)?(?:${EN_VERBS})\\b`, 'i');
const EN_WHERE = /\b(?:on|at) the host\b/i;
/** A relative clause between the verb and the place ("try what root could do on the host") makes the place the clause's, not the instruction's. */
const EN_RELATIVE = /\b(?:what|that|which|who|whose|where|if|whether)\b/i;

const ZH_VERBS = '运行|执行|输入|看看|看|查看|读回|读取(?!的)|比较|列出|用\\s*`|`';
const ZH_INSTRUCTION = new RegExp(`(?<!本实验|实验服务器|服务器|实验)在宿主机上[，,]?\\s*(?:${ZH_VERBS})`);
const ZH_LOOK_AT_HOST = /(?:看看|查看|比较)[^。；：，—\n]{0,6}宿主机/;

/** A sentence about the host that ends in a colon and is followed by a code block: the commands to type there. */
const EN_BLOCK = /([^.!?\n]*\bon the host\b[^.!?\n]*:)[ \t]*\n(?:[ \t]*\n)*[ \t]*```/gi;
const ZH_BLOCK = /([^。！？\n]*宿主机上[^。！？\n]*：)[ \t]*\n(?:[ \t]*\n)*[ \t]*```/g;

const FENCE = /```[\s\S]*?(?:```|$)/g;

function sentences(text: string, lang: 'en' | 'zh'): string[] {
  const prose = text.replace(FENCE, '\n\n');
  return lang === 'en'
    ? prose.split(/(?<=[.!?:])\s+|\n\s*\n|\n(?=\s*(?:[-*]|\d+\.)\s)/)
    : prose.split(/(?<=[。！？：])|\n\s*\n|\n(?=\s*(?:[-*]|\d+\.)\s)/);
}

function isInstruction(sentence: string, lang: 'en' | 'zh'): boolean {
  const s = sentence.replace(/\*\*/g, '').replace(/`[^`]*`/g, (code) => (lang === 'en' ? 'CODE' : code)).trim();
  if (lang === 'zh') return ZH_INSTRUCTION.test(s) || ZH_LOOK_AT_HOST.test(s);
  const where = EN_WHERE.exec(s);
  if (!where) return false;
  // "On the host, `ip addr show` lists …" and "`nproc` on the host tells …": a command to type there.
  if (/^(?:\(?\s*)?on the host,?\s*CODE/i.test(s) || /^CODE on the host\b/i.test(s)) return true;
  for (const clause of s.slice(0, where.index).split(/[;:]/)) {
    const verb = EN_IMPERATIVE.exec(clause);
    if (!verb) continue;
    const between = clause.slice(verb.index + verb[0].length);
    // "`/proc/<pid>/root`, read on the host, names …": a participle after a comma, not an order.
    if (verb.index > 0 && between.trim() === '') continue;
    if (!EN_RELATIVE.test(between)) return true;
  }
  // The verb may come just after the place: "Rename it, then look at the host".
  return /\b(?:look|see|check)\s+at the host\b/i.test(s);
}

/**
 * The sentences of `text` that tell the student to run or look at something on the host
 * without naming the Host tab, trimmed for a message.
 */
export function hostInstructions(text: string, lang: 'en' | 'zh'): string[] {
  const found: string[] = [];
  const say = (s: string) => found.push(s.trim().replace(/\s+/g, ' ').slice(0, 90));
  for (const s of sentences(text, lang)) if (isInstruction(s, lang) && !NAMES_VIEW[lang].test(s)) say(s);
  for (const m of text.matchAll(lang === 'en' ? EN_BLOCK : ZH_BLOCK)) {
    const lead = m[1]!;
    if (!NAMES_VIEW[lang].test(lead) && !found.some((f) => lead.trim().replace(/\s+/g, ' ').startsWith(f.slice(0, 40)))) say(lead);
  }
  return found;
}
