import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ReviewState } from '../../src/logic/review';
import type { TaskDiffResult } from '../../src/protocol';

function diff(): TaskDiffResult {
  const hunk = (id: string, newStart: number) => ({ id, header: `@@ -${String(newStart)},1 +${String(newStart)},1 @@`, oldStart: newStart, oldLines: 1, newStart, newLines: 1, lines: ['-a', '+b'] });
  return {
    taskId: 7,
    baseCommit: 'a'.repeat(40),
    headCommit: 'b'.repeat(40),
    files: [
      { path: 'src/x.py', status: 'modified', hunks: [hunk('h1', 3), hunk('h2', 10)] },
      { path: 'README.md', status: 'modified', hunks: [hunk('h3', 1)] },
    ],
  };
}

test('nothing decided yet is not a decision', () => {
  const made = new ReviewState(diff()).decision();
  assert.ok('problem' in made);
  assert.match(made.problem, /at least one hunk/);
});

test('approving every hunk approves the task', () => {
  const r = new ReviewState(diff());
  r.approveAll();
  assert.deepEqual(r.decision(), { decision: { kind: 'approve' } });
});

test('approving some hunks merges exactly those', () => {
  const r = new ReviewState(diff());
  r.decide('h1', 'approve');
  r.decide('h2', 'reject');
  r.decide('h3', 'approve');
  assert.deepEqual(r.decision(), { decision: { kind: 'approve_hunks', hunkIds: ['h1', 'h3'] } });
  assert.deepEqual(r.tally(), { approved: 2, rejected: 1, undecided: 0 });
});

test('only rejections reject the task', () => {
  const r = new ReviewState(diff());
  r.decide('h2', 'reject');
  const made = r.decision();
  assert.ok('decision' in made);
  assert.equal(made.decision.kind, 'reject');
});

test('comments turn the review into a request for changes, anchored where written', () => {
  const r = new ReviewState(diff());
  r.approveAll();
  r.comment('  use pathlib here ', 'src/x.py', 'h1');
  r.comment('   ');
  assert.deepEqual(r.decision(), { decision: { kind: 'request_changes', comments: [{ body: 'use pathlib here', path: 'src/x.py', hunkId: 'h1' }] } });
});

test('a verdict on a hunk outside the diff is refused', () => {
  assert.throws(() => { new ReviewState(diff()).decide('nope', 'approve'); }, /not part of this review/);
});

test('clearing a verdict makes the hunk undecided again', () => {
  const r = new ReviewState(diff());
  r.decide('h1', 'approve');
  r.decide('h1', undefined);
  assert.equal(r.verdict('h1'), undefined);
  assert.equal(r.tally().undecided, 3);
});

test('line comments become request-changes comments with their file, line and hunk', () => {
  const r = new ReviewState(diff());
  r.commentLine('src/x.py', 10, ' rename this ');
  r.commentLine('README.md', 1, 'typo');
  r.commentLine('src/x.py', 3, 'why?');
  r.commentLine('src/x.py', 40, 'outside any hunk');
  assert.deepEqual(r.requestChanges(), {
    decision: {
      kind: 'request_changes',
      comments: [
        { body: 'typo', path: 'README.md', line: 1, hunkId: 'h3' },
        { body: 'why?', path: 'src/x.py', line: 3, hunkId: 'h1' },
        { body: 'rename this', path: 'src/x.py', line: 10, hunkId: 'h2' },
        { body: 'outside any hunk', path: 'src/x.py', line: 40 },
      ],
    },
  });
});

test('a line comment wins over hunk verdicts, and removing it restores them', () => {
  const r = new ReviewState(diff());
  r.approveAll();
  const id = r.commentLine('src/x.py', 3, 'not like this');
  const made = r.decision();
  assert.ok('decision' in made && made.decision.kind === 'request_changes');
  assert.ok(id !== undefined);
  r.removeComment(id);
  assert.deepEqual(r.decision(), { decision: { kind: 'approve' } });
});

test('empty comments, or comments on files outside the review, are not kept', () => {
  const r = new ReviewState(diff());
  assert.equal(r.commentLine('src/x.py', 3, '   '), undefined);
  assert.equal(r.commentLine('other.py', 3, 'hello'), undefined);
  const made = r.requestChanges();
  assert.ok('problem' in made);
  assert.match(made.problem, /comment on a line/);
});
