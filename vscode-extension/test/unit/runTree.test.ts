import assert from 'node:assert/strict';
import { test } from 'node:test';

import { needsYouTree, runNode, runsTree, taskTooltip, topologicalOrder } from '../../src/logic/runTree';
import { run, task } from './fixtures';

test('tasks come after their dependencies whatever their ids', () => {
  const tasks = [task(1, 1, { dependencies: [3] }), task(2, 1), task(3, 1, { dependencies: [2] })];
  assert.deepEqual(topologicalOrder(tasks).map((t) => t.id), [2, 3, 1]);
});

test('a dependency cycle still shows every task once', () => {
  const tasks = [task(1, 1, { dependencies: [2] }), task(2, 1, { dependencies: [1] }), task(3, 1)];
  assert.deepEqual(topologicalOrder(tasks).map((t) => t.id), [3, 1, 2]);
});

test('runs are listed newest first with progress and cost', () => {
  const tasks = new Map([[2, [task(5, 2, { state: 'complete' }), task(6, 2, { state: 'active' })]]]);
  const rows = runsTree([run(1), run(2, { cost: { usd: 0.5 } })], (id) => tasks.get(id) ?? []);
  assert.deepEqual(rows.map((r) => r.id), ['run:2', 'run:1']);
  assert.equal(rows[0]?.description, '#2 · running · 1/2 · $0.5000');
  assert.equal(rows[0].contextValue, 'run:running');
});

test('tasks are grouped by phase when a run has several phases', () => {
  const node = runNode(run(1), [task(1, 1, { phase: 'build' }), task(2, 1, { phase: 'test', dependencies: [1] }), task(3, 1, { phase: 'build', state: 'complete' })]);
  assert.deepEqual(node.children.map((c) => [c.kind, c.label, c.description]), [
    ['phase', 'build', '1/2'],
    ['phase', 'test', '0/1'],
  ]);
  assert.deepEqual(node.children[1]?.children.map((c) => c.description), ['planned · after t1']);
});

test('a spawned replacement sits under the task it replaces', () => {
  const node = runNode(run(1), [task(1, 1, { state: 'abandoned' }), task(2, 1, { parentId: 1 })]);
  assert.deepEqual(node.children.map((c) => c.id), ['task:1']);
  assert.deepEqual(node.children[0]?.children.map((c) => c.id), ['task:2']);
});

test('task rows show the attempt out of the maximum', () => {
  const node = runNode(run(1), [task(1, 1, { state: 'active', attempt: 2, maxRetries: 4 })]);
  assert.equal(node.children[0]?.description, 'active · attempt 2/5');
  assert.equal(node.children[0].contextValue, 'task:active');
});

test('the tooltip lists acceptance criteria with their QA verdicts', () => {
  const t = task(1, 1, {
    description: 'Add a flag',
    acceptanceCriteria: ['flag parses', 'docs updated', 'tests pass'],
    verdicts: [
      { criterion: 'flag parses', passed: true, evidence: 'test_flag ok' },
      { criterion: 'docs updated', passed: false },
    ],
  });
  const tip = taskTooltip(t);
  assert.match(tip, /Add a flag/);
  assert.match(tip, /\$\(pass-filled\) flag parses — test\\_flag ok/);
  assert.match(tip, /\$\(error\) docs updated/);
  assert.match(tip, /\$\(circle-outline\) tests pass/);
});

test('needs-you lists only waiting tasks across runs, longest waiting first', () => {
  const tasks = new Map([
    [1, [task(1, 1, { state: 'waiting_human', updatedAt: '2026-01-02T00:00:00Z', reason: 'retries spent' }), task(2, 1, { state: 'active' })]],
    [2, [task(3, 2, { state: 'waiting_human', updatedAt: '2026-01-01T00:00:00Z' })]],
  ]);
  const rows = needsYouTree([], [run(1), run(2)], (id) => tasks.get(id) ?? []);
  assert.deepEqual(rows.map((r) => r.taskId), [3, 1]);
  assert.equal(rows[1]?.description, 'run #1 · retries spent');
});

test('a long multi-line objective becomes a one-line label', () => {
  const node = runNode(run(1, { objective: `${'x'.repeat(200)}\nsecond line` }), []);
  assert.equal(node.label.length, 80);
  assert.ok(node.label.endsWith('…'));
});
