import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { applyHunks, editorLine, gitLine, hasLoneCr, hunkAnchors, hunkAtNewLine, parseUnifiedDiff } from '../../src/logic/hunks';

/** A real `git diff` between two texts. */
function gitDiff(before: string, after: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bosun-hunks-'));
  try {
    writeFileSync(join(dir, 'a.txt'), before);
    writeFileSync(join(dir, 'b.txt'), after);
    try {
      execFileSync('git', ['diff', '--no-index', '-U1', 'a.txt', 'b.txt'], { cwd: dir, encoding: 'utf8' });
      return '';
    } catch (err) {
      // git diff --no-index exits 1 when the files differ.
      return (err as { stdout: string }).stdout;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const lines = (n: number): string[] => Array.from({ length: n }, (_, i) => `line ${i + 1}`);
const BEFORE = `${lines(20).join('\n')}\n`;
const afterLines = lines(20);
afterLines[2] = 'line 3 changed';
afterLines.splice(10, 1);
afterLines.push('line 21 added');
const AFTER = `${afterLines.join('\n')}\n`;

test('a git diff parses into one hunk per separate change', () => {
  const [file] = parseUnifiedDiff(gitDiff(BEFORE, AFTER));
  assert.equal(file?.oldPath, 'a.txt');
  assert.equal(file.hunks.length, 3);
});

test('applying every hunk gives the new text and none gives the old', () => {
  const hunks = parseUnifiedDiff(gitDiff(BEFORE, AFTER))[0]?.hunks ?? [];
  assert.equal(applyHunks(BEFORE, hunks, new Set([0, 1, 2])), AFTER);
  assert.equal(applyHunks(BEFORE, hunks, new Set()), BEFORE);
});

test('applying a subset of hunks changes exactly those regions', () => {
  const hunks = parseUnifiedDiff(gitDiff(BEFORE, AFTER))[0]?.hunks ?? [];
  const out = applyHunks(BEFORE, hunks, new Set([1])).split('\n');
  assert.equal(out[2], 'line 3');
  assert.ok(!out.includes('line 11'));
  assert.ok(!out.includes('line 21 added'));
});

test('editor lines map to the hunk covering them', () => {
  const hunks = parseUnifiedDiff(gitDiff(BEFORE, AFTER))[0]?.hunks ?? [];
  assert.equal(hunkAtNewLine(hunks, 3), 0);
  assert.equal(hunkAtNewLine(hunks, 7), undefined);
  assert.equal(hunkAtNewLine(hunks, 20), 2);
  assert.deepEqual(hunkAnchors(hunks), [2, 10, 19]);
});

test('a hunk whose context no longer matches is refused, naming it', () => {
  const hunks = parseUnifiedDiff(gitDiff(BEFORE, AFTER))[0]?.hunks ?? [];
  assert.throws(() => applyHunks(BEFORE.replace('line 2\n', 'LINE 2\n'), hunks, new Set([0])), /hunk 1 does not apply/);
});

test('a truncated diff is an error, not a silent partial parse', () => {
  const diff = gitDiff(BEFORE, AFTER);
  const cut = diff.split('\n').slice(0, 7).join('\n');
  assert.throws(() => parseUnifiedDiff(cut), /truncated/);
});

test('a file without a final newline round-trips', () => {
  const before = 'a\nb\nc';
  const after = 'a\nB\nc';
  const hunks = parseUnifiedDiff(gitDiff(before, after))[0]?.hunks ?? [];
  assert.equal(applyHunks(before, hunks, new Set([0])), after);
});

// Git lines 0 and 3 hold a lone CR (the editor shows each as two lines), line 2 is CRLF.
const LONE_CR = ['one\rtwo', 'three', 'four\r', 'five\rsix', ...lines(6), 'target', 'after', 'end'];

test('a hunk after lone CRs is anchored on the editor line of its change', () => {
  const before = `${LONE_CR.join('\n')}\n`;
  const after = before.replace('target', 'TARGET');
  const hunks = parseUnifiedDiff(gitDiff(before, after))[0]?.hunks ?? [];
  assert.deepEqual(hunkAnchors(hunks), [10]);
  assert.ok(hasLoneCr(after) && !hasLoneCr('crlf\r\nonly\r\n'));
  assert.equal(editorLine(after, 10), 12);
  assert.equal(after.split(/\r\n|\r|\n/)[12], 'TARGET');
});

test('editor lines map back to the line git counts, a lone CR staying inside its line', () => {
  const text = `${LONE_CR.join('\n')}\n`;
  const editor = text.split(/\r\n|\r|\n/);
  const expected = [0, 0, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
  assert.deepEqual(editor.slice(0, 15).map((_, i) => gitLine(text, i)), expected);
  for (let git = 0; git < LONE_CR.length; git++) assert.equal(gitLine(text, editorLine(text, git)), git);
  assert.equal(editorLine('a\r\nb\r\nc\r\n', 2), 2);
});
