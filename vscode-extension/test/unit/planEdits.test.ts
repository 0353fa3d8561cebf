import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { TASK_STYLES, RUN_STYLES } from '../../src/logic/stateStyle';
import { NOT_STARTED, REPLANNABLE, RESTARTABLE, criteriaAfter, directDependents, downstream, dropConsequence, dropModes, dropReport, notStarted, restartReport, validateGuidance } from '../../src/logic/planEdits';
import { run, task } from './fixtures';

// 1 → 2 → 3 → 4, and 5 waits for 2 too; 6 waited for 2 but is complete.
const plan = [
  task(1, 1, { key: 'a', state: 'active', attempt: 1 }),
  task(2, 1, { key: 'b', dependencies: [1] }),
  task(3, 1, { key: 'c', dependencies: [2] }),
  task(4, 1, { key: 'd', dependencies: [3] }),
  task(5, 1, { key: 'e', dependencies: [2], state: 'ready' }),
  task(6, 1, { key: 'f', dependencies: [2], state: 'complete' }),
];
const byId = (id: number) => plan.find((t) => t.id === id) ?? task(id, 1);

test('only a planned or ready task with no attempt yet counts as not started', () => {
  assert.equal(notStarted(byId(2)), true);
  assert.equal(notStarted(byId(5)), true);
  assert.equal(notStarted(byId(1)), false);
  assert.equal(notStarted(task(7, 1, { state: 'ready', attempt: 2 })), false);
});

test('dependents are the unfinished tasks waiting on it; downstream follows them all', () => {
  assert.deepEqual(directDependents(byId(2), plan).map((t) => t.key), ['c', 'e']);
  assert.deepEqual(downstream(byId(2), plan).map((t) => t.key), ['c', 'd', 'e']);
  assert.deepEqual(directDependents(byId(4), plan), []);
});

test('the confirmation says what happens to the dependents, for each choice', () => {
  assert.equal(dropConsequence(byId(2), plan, 'rewire'), 'Its dependents #3 c, #5 e will wait for what it waited for (a) instead.');
  assert.equal(dropConsequence(byId(2), plan, 'drop'), 'Also dropped (everything downstream): #3 c, #4 d, #5 e.');
  assert.equal(dropConsequence(byId(4), plan, 'rewire'), 'No task waits for it.');
  const root = [task(1, 1, { key: 'a' }), task(2, 1, { key: 'b', dependencies: [1] })];
  assert.equal(dropConsequence(root[0] ?? task(1, 1), root, 'rewire'), 'Its dependents #2 b will wait for nothing in its place instead.');
  assert.deepEqual(dropModes(byId(2), plan).map((m) => m.mode), ['rewire', 'drop']);
});

test('the report after a drop names what went and what each rewired task waits for', () => {
  const rewired = [task(3, 1, { key: 'c', dependencies: [1] })];
  assert.equal(dropReport({ dropped: [byId(2)], rewired }, plan), 'dropped #2 b; #3 c now waits for a.');
  assert.equal(dropReport({ dropped: [byId(2), byId(3), byId(4)] }, plan), 'dropped #2 b; also dropped #3 c, #4 d.');
});

test('a criterion is changed in place, removed when emptied, or added at the end', () => {
  const criteria = ['one', 'two'];
  assert.deepEqual(criteriaAfter(criteria, 1, ' TWO '), ['one', 'TWO']);
  assert.deepEqual(criteriaAfter(criteria, 0, '  '), ['two']);
  assert.deepEqual(criteriaAfter(criteria, undefined, 'three'), ['one', 'two', 'three']);
  assert.deepEqual(criteriaAfter(criteria, undefined, ''), ['one', 'two']);
  assert.deepEqual(criteria, ['one', 'two']); // the task's own list is left alone
});

test('a replan needs guidance; a restart reports what replaced what', () => {
  assert.ok(validateGuidance('   '));
  assert.equal(validateGuidance('add upgrade notes'), undefined);
  const result = { run: run(3, { state: 'running' }), reopened: [task(9, 3, { key: 'b-r2' }), task(10, 3, { key: 'c-r2' })] };
  assert.equal(restartReport(result), 'run #3 restarted (running); reopened #9 b-r2, #10 c-r2.');
});

interface MenuItem {
  command: string;
  when: string;
}
const menus = (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { contributes: { menus: { 'view/item/context': MenuItem[] } } }).contributes.menus['view/item/context'];

/** The states whose tree rows show `command` in their context menu (`when` is `viewItem =~ /re/`). */
function shownOn(command: string, kind: 'task' | 'run', states: readonly string[]): string[] {
  const whens = menus.filter((m) => m.command === command).map((m) => new RegExp((/viewItem =~ \/(.*)\//.exec(m.when) ?? [])[1] ?? '$^'));
  assert.ok(whens.length, `${command} has no entry in the tree's context menu`);
  return states.filter((s) => whens.some((re) => re.test(`${kind}:${s}`)));
}

test("the tree's plan menus appear exactly on the states the commands act on", () => {
  const taskStates = Object.keys(TASK_STYLES);
  const runStates = Object.keys(RUN_STYLES);
  assert.deepEqual(shownOn('bosun.editTask', 'task', taskStates), [...NOT_STARTED]);
  assert.deepEqual(shownOn('bosun.dropTask', 'task', taskStates), [...NOT_STARTED]);
  assert.deepEqual(shownOn('bosun.replanRun', 'run', runStates), [...REPLANNABLE]);
  assert.deepEqual(shownOn('bosun.restartRun', 'run', runStates).sort(), [...RESTARTABLE].sort());
  assert.deepEqual(shownOn('bosun.addDependency', 'task', taskStates), taskStates);
});
