// Before the first paint: the student's theme and language (web/src/lib/prefs.svelte.ts
// keeps them), so the page does not flash in the wrong ones while its script loads. A file,
// not an inline script: the server's Content-Security-Policy allows only its own scripts.
try {
  var theme = localStorage.getItem('stepbox.theme');
  var lang = localStorage.getItem('stepbox.lang') || (navigator.language.toLowerCase().indexOf('zh') === 0 ? 'zh' : 'en');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
} catch (e) {
  // storage refused: the script's defaults apply once it runs
}
