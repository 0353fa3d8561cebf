/**
 * Cases of the in-VS-Code suite about editing a live run's plan through the tree's
 * commands: dependencies, editing and dropping a task, replanning, restarting. Each
 * checks the daemon's board, not only what the extension drew.
 */

import * as vscode from 'vscode';

import type { NodeModel } from '../../src/logic/runTree';
import type { Run, Task } from '../../src/protocol';
import { scenarioRun } from './reviewCases';
import { assert, bosun, eventually, promptOf, scripted, test, until } from './suite';

let plan: Run | undefined;

/** The run's task with `key`, as the extension holds it. */
function byKey(run: Run, key: string): Task {
  const task = bosun()
    .cache.tasksOf(run.id)
    .find((t) => t.key === key);
  assert(task, `run #${String(run.id)} has no task ${key}`);
  return task;
}

/** The Runs tree's row of a task, however deep (subtasks sit under their creator). */
function rowOf(taskId: number): NodeModel | undefined {
  const all = (nodes: readonly NodeModel[]): NodeModel[] => nodes.flatMap((n) => [n, ...all(n.children)]);
  return all(bosun().runsRows()).find((n) => n.kind === 'task' && n.taskId === taskId);
}

/** The board's dependencies of a task, as keys, sorted. */
async function boardDeps(run: Run, key: string): Promise<string[]> {
  const { tasks } = await bosun().daemon.request('bosun/getRun', { runId: run.id });
  const keys = new Map(tasks.map((t) => [t.id, t.key]));
  const task = tasks.find((t) => t.key === key);
  assert(task, `the board has no task ${key}`);
  return (task.dependencies ?? []).map((d) => keys.get(d) ?? `#${String(d)}`).sort();
}

/** Run a command of the tree with the UI answered by `ui`. */
async function withUi<T>(ui: Parameters<ReturnType<typeof bosun>['setUi']>[0], command: string, target: object): Promise<T> {
  const b = bosun();
  b.setUi(ui);
  try {
    return await vscode.commands.executeCommand<T>(command, target);
  } finally {
    b.setUi(undefined);
  }
}

export function planCases(): void {
  test('plan editing: a dependency added and removed from the tree changes the board, and a cycle is refused', async () => {
    const b = bosun();
    const run = await scenarioRun('Write the release notes', 'plan-edit.toml');
    plan = run;
    await promptOf(run.id, 'tool_approval'); // `a` is held: b, c and d have not started
    await until('the four planned tasks', () => ['b', 'c', 'd'].every((k) => b.cache.tasksOf(run.id).some((t) => t.key === k && t.state === 'planned')));
    const a = byKey(run, 'a');
    await withUi(scripted([], [[a.title]]), 'bosun.addDependency', { taskId: byKey(run, 'd').id });
    assert(JSON.stringify(await boardDeps(run, 'd')) === '["a","c","director"]', `d waits for ${JSON.stringify(await boardDeps(run, 'd'))}`);
    await until('the tree to show d after a', () => /after .*\ba\b/.test(rowOf(byKey(run, 'd').id)?.description ?? ''));
    await withUi(scripted([], [[a.title]]), 'bosun.removeDependency', { taskId: byKey(run, 'd').id });
    assert(JSON.stringify(await boardDeps(run, 'd')) === '["c","director"]', `d waits for ${JSON.stringify(await boardDeps(run, 'd'))}`);
    // a → d would close a → d → c → b → a: the daemon refuses and nothing changes.
    await withUi(scripted([], [[byKey(run, 'd').title]]), 'bosun.addDependency', { taskId: a.id });
    assert(JSON.stringify(await boardDeps(run, 'a')) === '["director"]', `a waits for ${JSON.stringify(await boardDeps(run, 'a'))}`);
  });

  test("plan editing: a planned task's title, criteria, description and profile are edited from the tree", async () => {
    const run = plan;
    assert(run, 'no run from the previous case');
    const c = byKey(run, 'c');
    await withUi(scripted(['Write the notes for 2.0'], [['Title']]), 'bosun.editTask', { taskId: c.id });
    await withUi(scripted(['the notes name every change'], [['Acceptance criteria'], ['$(add) Add a criterion…']]), 'bosun.editTask', { taskId: c.id });
    await withUi(scripted(['One page, newest first.'], [['Description']]), 'bosun.editTask', { taskId: c.id });
    await withUi(scripted([], [['Profile'], ['coder']]), 'bosun.editTask', { taskId: c.id });
    const { task } = await bosun().daemon.request('bosun/getTask', { taskId: c.id });
    assert(task.title === 'Write the notes for 2.0', `title ${task.title}`);
    assert(JSON.stringify(task.acceptanceCriteria) === '["the notes exist","the notes name every change"]', `criteria ${JSON.stringify(task.acceptanceCriteria)}`);
    assert(task.description === 'One page, newest first.' && task.profile === 'coder', `description ${String(task.description)}, profile ${String(task.profile)}`);
    await until('the tree to show the new title', () => bosun().cache.task(c.id)?.title === 'Write the notes for 2.0');
  });

  test('plan editing: dropping a planned task says what happens to its dependents, asks, and rewires them', async () => {
    const b = bosun();
    const run = plan;
    assert(run, 'no run from an earlier case');
    const bTask = byKey(run, 'b');
    const c = byKey(run, 'c');
    const declined: string[] = [];
    await withUi(scripted([], [['Drop it, keep its dependents']], [false], declined), 'bosun.dropTask', { taskId: bTask.id });
    assert(declined.length === 1 && declined[0]?.includes(`Its dependents #${String(c.id)} c will wait for what it waited for (director, a) instead.`), `asked: ${declined.join(' | ')}`);
    assert((await b.daemon.request('bosun/getTask', { taskId: bTask.id })).task.state === 'planned', 'declining dropped it anyway');
    const asked: string[] = [];
    const dropped = await withUi<boolean>(scripted([], [['Drop it, keep its dependents']], [true], asked), 'bosun.dropTask', { taskId: bTask.id });
    assert(dropped, 'the drop was not sent');
    const { task } = await b.daemon.request('bosun/getTask', { taskId: bTask.id });
    assert(task.state === 'abandoned', `b is ${String(task.state)} on the board`);
    assert(JSON.stringify(await boardDeps(run, 'c')) === '["a","director"]', `c waits for ${JSON.stringify(await boardDeps(run, 'c'))}`);
    await until('the tree to show b abandoned', () => rowOf(bTask.id)?.contextValue === 'task:abandoned');
  });

  test('plan editing: a live run is replanned with guidance, and once cancelled it restarts from the tree', async () => {
    const b = bosun();
    const run = plan;
    assert(run, 'no run from an earlier case');
    const added = await withUi<Task | undefined>(scripted(['Add a section on upgrades'], []), 'bosun.replanRun', { runId: run.id });
    assert(added?.key === 'replan-1' && added.profile === 'planner', `replan added ${JSON.stringify(added)}`);
    await b.daemon.request('bosun/cancelRun', { runId: run.id });
    await until(`run #${String(run.id)} to be cancelled`, () => b.cache.run(run.id)?.state === 'cancelled');
    const restarted = await withUi<boolean>(scripted([], [["Everything the run's end abandoned"]]), 'bosun.restartRun', { runId: run.id });
    assert(restarted, 'the restart was not sent');
    await eventually('the board to have the replacements', async () => {
      const board = await b.daemon.request('bosun/getRun', { runId: run.id });
      const keys = new Set(board.tasks.map((t) => t.key));
      // b was dropped: not the run's end, so it is not reopened.
      return board.run.state !== 'cancelled' && keys.has('a-r2') && keys.has('c-r2') && !keys.has('b-r2');
    });
    await b.daemon.request('bosun/cancelRun', { runId: run.id });
    await until(`run #${String(run.id)} to be cancelled again`, () => b.cache.run(run.id)?.state === 'cancelled');
  });
}
