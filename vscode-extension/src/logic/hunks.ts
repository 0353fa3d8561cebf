/** Unified diffs as hunks: parse, map editor lines to hunks, apply a chosen subset. */

/** One `@@ -a,b +c,d @@` block; `lines` keep their ' ', '-', '+' or '\' prefix. */
export interface Hunk {
  readonly oldStart: number;
  readonly oldLines: number;
  readonly newStart: number;
  readonly newLines: number;
  readonly header: string;
  readonly lines: readonly string[];
}

/** The hunks of one file. Paths are without the a/ and b/ prefixes; null when absent. */
export interface FileDiff {
  readonly oldPath: string | null;
  readonly newPath: string | null;
  readonly hunks: readonly Hunk[];
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;

function stripPrefix(raw: string): string | null {
  const p = raw.split('\t', 1)[0] ?? '';
  if (p === '/dev/null') return null;
  return p.startsWith('a/') || p.startsWith('b/') ? p.slice(2) : p;
}

/** Parse `git diff` output; malformed hunks raise an error naming the line. */
export function parseUnifiedDiff(text: string): FileDiff[] {
  const files: { oldPath: string | null; newPath: string | null; hunks: Hunk[] }[] = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    if (line.startsWith('--- ') && (lines[i + 1] ?? '').startsWith('+++ ')) {
      files.push({ oldPath: stripPrefix(line.slice(4)), newPath: stripPrefix((lines[i + 1] ?? '').slice(4)), hunks: [] });
      i += 2;
      continue;
    }
    const m = HUNK_HEADER.exec(line);
    if (!m) {
      i++;
      continue;
    }
    const file = files[files.length - 1];
    if (!file) throw new Error(`diff line ${i + 1}: hunk before any file header`);
    const [oldStart, oldLines, newStart, newLines] = [m[1], m[2] ?? '1', m[3], m[4] ?? '1'].map(Number) as [number, number, number, number];
    const body: string[] = [];
    let oldSeen = 0;
    let newSeen = 0;
    i++;
    while (i < lines.length && (oldSeen < oldLines || newSeen < newLines || (lines[i] ?? '').startsWith('\\'))) {
      const l = lines[i] ?? '';
      const tag = l[0];
      if (tag === ' ' || (l === '' && oldSeen < oldLines && newSeen < newLines)) {
        oldSeen++;
        newSeen++;
      } else if (tag === '-') oldSeen++;
      else if (tag === '+') newSeen++;
      else if (tag !== '\\') throw new Error(`diff line ${i + 1}: unexpected "${l.slice(0, 20)}" inside a hunk`);
      body.push(l === '' ? ' ' : l);
      i++;
    }
    if (oldSeen !== oldLines || newSeen !== newLines) throw new Error(`diff line ${i}: hunk "${line}" is truncated`);
    file.hunks.push({ oldStart, oldLines, newStart, newLines, header: (m[5] ?? '').trim(), lines: body });
  }
  return files;
}

/** The parts of a hunk that locating it needs (the protocol's hunks have them optional). */
export interface HunkPosition {
  readonly newStart?: number;
  readonly newLines?: number;
  readonly lines?: readonly string[];
}

/** Index of the hunk covering 1-based line `line` of the new file, if any. */
export function hunkAtNewLine(hunks: readonly HunkPosition[], line: number): number | undefined {
  const i = hunks.findIndex((h) => {
    const start = h.newStart ?? 0;
    return line >= start && line < start + Math.max(h.newLines ?? 0, 1);
  });
  return i < 0 ? undefined : i;
}

/** 0-based line of the new file where each hunk's first change is (for CodeLens). */
export function hunkAnchors(hunks: readonly HunkPosition[]): number[] {
  return hunks.map((h) => {
    let line = h.newStart ?? 1;
    for (const l of h.lines ?? []) {
      if (l.startsWith('+') || l.startsWith('-')) break;
      if (l.startsWith(' ')) line++;
    }
    return Math.max(line - 1, 0);
  });
}

/**
 * Apply only the hunks whose indexes are in `chosen` to `oldText` (the base). The
 * context must match, else an error says which hunk no longer applies.
 */
export function applyHunks(oldText: string, hunks: readonly Hunk[], chosen: ReadonlySet<number>): string {
  const old = oldText.split('\n');
  const out: string[] = [];
  let cursor = 0;
  let noNewlineAtEnd = false;
  for (const [index, h] of hunks.entries()) {
    const start = h.oldLines === 0 ? h.oldStart : h.oldStart - 1;
    if (start < cursor) throw new Error(`hunk ${index + 1} overlaps the one before it`);
    out.push(...old.slice(cursor, start));
    cursor = start;
    if (!chosen.has(index)) continue;
    let prev = '';
    for (const l of h.lines) {
      const tag = l[0];
      if (tag === '\\') {
        if (prev === '+' || prev === ' ') noNewlineAtEnd = true;
        continue;
      }
      prev = tag ?? '';
      const text = l.slice(1);
      if (tag === ' ' || tag === '-') {
        if (old[cursor] !== text) throw new Error(`hunk ${index + 1} does not apply at line ${cursor + 1}`);
        cursor++;
      }
      if (tag === ' ' || tag === '+') out.push(text);
    }
  }
  out.push(...old.slice(cursor));
  const joined = out.join('\n');
  return noNewlineAtEnd && joined.endsWith('\n') ? joined.slice(0, -1) : joined;
}

/*
 * Git numbers a file's lines at LF only (a lone CR is inside its line, and hunks and
 * review comments count that way), while an editor also breaks a line at a lone CR: in a
 * file holding one, the two numberings part after it. These map between them (0-based).
 */

/** The editor line where line `gitLine` (as git counts) of the text `raw` starts. */
export function editorLine(raw: string, gitLine: number): number {
  let line = 0;
  let shift = 0;
  for (let i = 0; i < raw.length && line < gitLine; i++) {
    const c = raw.charCodeAt(i);
    if (c === 10) line++;
    else if (c === 13 && raw.charCodeAt(i + 1) !== 10) shift++;
  }
  return gitLine + shift;
}

/** The line as git counts it that editor line `line` of the text `raw` is part of. */
export function gitLine(raw: string, line: number): number {
  let editor = 0;
  let git = 0;
  for (let i = 0; i < raw.length && editor < line; i++) {
    const c = raw.charCodeAt(i);
    if (c === 10) {
      editor++;
      git++;
    } else if (c === 13 && raw.charCodeAt(i + 1) !== 10) editor++;
  }
  return git + (line - editor);
}

/** Whether `raw` holds a CR not followed by LF (only then do the numberings part). */
export function hasLoneCr(raw: string): boolean {
  return /\r(?!\n)/.test(raw);
}
