// The student's display choices: language and colour theme. Both are remembered in
// localStorage, so they survive a reload and apply to every lesson.

export type Lang = 'en' | 'zh';
export type Theme = 'light' | 'dark';

const LANG_KEY = 'stepbox.lang';
const THEME_KEY = 'stepbox.theme';

// Storage can throw (private windows, disabled cookies): preferences are a nicety, never fatal.
export function load(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function save(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // not remembered this time; the choice still applies to this page
  }
}

function initialLang(): Lang {
  const saved = load(LANG_KEY);
  if (saved === 'en' || saved === 'zh') return saved;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

function initialTheme(): Theme | null {
  const saved = load(THEME_KEY);
  return saved === 'light' || saved === 'dark' ? saved : null;
}

const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');

class Prefs {
  lang = $state<Lang>(initialLang());
  /** What the student picked with the toggle; null means "follow the system". */
  private chosenTheme = $state<Theme | null>(initialTheme());
  private systemDark = $state(darkQuery.matches);
  readonly theme: Theme = $derived(this.chosenTheme ?? (this.systemDark ? 'dark' : 'light'));

  constructor() {
    darkQuery.addEventListener('change', (e) => (this.systemDark = e.matches));
  }

  setLang(lang: Lang): void {
    this.lang = lang;
    save(LANG_KEY, lang);
  }

  toggleTheme(): void {
    this.chosenTheme = this.theme === 'dark' ? 'light' : 'dark';
    save(THEME_KEY, this.chosenTheme);
  }
}

export const prefs = new Prefs();
