import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RunCache } from '../../src/logic/runCache';
import { run, task } from './fixtures';

test('an older notification never overwrites a newer one', () => {
  const cache = new RunCache();
  cache.putTask(task(1, 1, { state: 'active' }), 7);
  assert.equal(cache.putTask(task(1, 1, { state: 'ready' }), 5), false);
  assert.equal(cache.task(1)?.state, 'active');
});

test('seq classification: next, seen, and gap', () => {
  const cache = new RunCache();
  cache.advanceTo(4);
  assert.equal(cache.observeSeq(5), 'next');
  assert.equal(cache.observeSeq(5), 'seen');
  assert.equal(cache.observeSeq(3), 'seen');
  assert.equal(cache.observeSeq(9), 'gap');
  assert.equal(cache.lastSeq, 9);
});

test('a listing drops tasks it does not contain but keeps ones created after it', () => {
  const cache = new RunCache();
  cache.putTask(task(1, 1), 2);
  cache.putTask(task(2, 1), 2);
  cache.putTask(task(3, 1), 12);
  cache.putRunWithTasks(run(1), [task(1, 1, { state: 'ready' })], 10);
  assert.deepEqual(cache.tasksOf(1).map((t) => [t.id, t.state]), [
    [1, 'ready'],
    [3, undefined],
  ]);
});

test('listeners hear each change and can unsubscribe', () => {
  const cache = new RunCache();
  let calls = 0;
  const off = cache.onChange(() => calls++);
  cache.putRun(run(1), 1);
  cache.putRun(run(1), 0);
  off();
  cache.putRun(run(2), 1);
  assert.equal(calls, 1);
});

test('retainRuns forgets runs and their tasks', () => {
  const cache = new RunCache();
  cache.putRunWithTasks(run(1), [task(1, 1)], 1);
  cache.putRunWithTasks(run(2), [task(2, 2)], 1);
  cache.retainRuns(new Set([2]), 5);
  assert.deepEqual(cache.allRuns().map((r) => r.id), [2]);
  assert.equal(cache.task(1), undefined);
});

test('a run created after a listing was taken survives that listing', () => {
  const cache = new RunCache();
  cache.putRun(run(1), 3);
  cache.putRun(run(9), 8);
  cache.retainRuns(new Set(), 5);
  assert.deepEqual(cache.allRuns().map((r) => r.id), [9]);
});
