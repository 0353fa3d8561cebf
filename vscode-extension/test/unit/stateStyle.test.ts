import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RUN_STYLES, TASK_STYLES, isRunFinished, isTaskDone, taskStyle } from '../../src/logic/stateStyle';
import { run, task } from './fixtures';

test('every task state has a distinct icon and colour pair', () => {
  const pairs = Object.values(TASK_STYLES).map((s) => `${s.icon}/${String(s.color)}`);
  assert.equal(new Set(pairs).size, pairs.length);
});

test('failure states are red and waiting for a human is orange', () => {
  assert.equal(TASK_STYLES.failed.color, 'charts.red');
  assert.equal(RUN_STYLES.failed.color, 'charts.red');
  assert.equal(TASK_STYLES.waiting_human.color, 'charts.orange');
  assert.equal(TASK_STYLES.complete.color, 'charts.green');
});

test('a task without a state is drawn as planned', () => {
  assert.equal(taskStyle(task(1, 1)).label, 'planned');
});

test('an unknown state from a newer daemon gets a question mark, not a crash', () => {
  const style = taskStyle(task(1, 1, { state: 'teleporting' as never }));
  assert.equal(style.icon, 'question');
  assert.equal(style.label, 'teleporting');
});

test('only completed, failed and cancelled runs count as finished', () => {
  const finished = Object.keys(RUN_STYLES).filter((s) => isRunFinished(run(1, { state: s as never })));
  assert.deepEqual(finished.sort(), ['cancelled', 'completed', 'failed']);
});

test('complete and abandoned tasks count as done for progress', () => {
  const done = Object.keys(TASK_STYLES).filter((s) => isTaskDone(task(1, 1, { state: s as never })));
  assert.deepEqual(done.sort(), ['abandoned', 'complete']);
});
