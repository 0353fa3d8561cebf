/**
 * Task-written text inside Markdown tooltips, shown as text and nothing else.
 *
 * Titles, descriptions, criteria, evidence, reasons and tool arguments come from the
 * model (or a repository it read): as Markdown they could draw links that look like
 * Bosun's, load remote images when hovered (a beacon out of the editor), or, with
 * theme icons on, fake the state icons. Every such value goes through one of these.
 */

// Inline syntax anywhere (links and images need `[`, tags and autolinks `<`, entities
// `&`, theme icons `$`); block syntax only at a line's start. CommonMark lets a
// backslash escape any ASCII punctuation, so escaping is always safe.
const INLINE = /[\\`*_[\]<>!|~$&]/g;
const LINE_START = /^(\s*)([#+\-=>]|\d+[.)])/gm;

/** `text` as literal Markdown text, its line breaks kept as hard breaks. */
export function mdText(text: string): string {
  return text
    .replace(INLINE, (c) => `\\${c}`)
    .replace(LINE_START, (_m, space: string, mark: string) => `${space}${mark.replace(/([#+\-=>.)])$/, '\\$1')}`)
    .replace(/\r?\n/g, '  \n');
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    longest = Math.max(longest, run);
  }
  return longest;
}

/** `text` as an inline code span that no backtick inside can close early. */
export function mdCode(text: string): string {
  const flat = text.replace(/\r?\n/g, ' ');
  const ticks = '`'.repeat(longestRun(flat, '`') + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

/** `text` as a fenced code block that no fence inside can close early. */
export function mdFence(text: string, lang = ''): string {
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
  return `${fence}${lang}\n${text}\n${fence}`;
}
