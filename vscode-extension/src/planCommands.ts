/**
 * Plan editing from the Runs tree: dependencies, editing and dropping a task that has
 * not started, replanning a live run with guidance, restarting a cancelled or failed
 * run. Each is one daemon request; a refusal (a cycle, a task that already started)
 * is shown as the daemon worded it and changes nothing.
 */

import * as vscode from 'vscode';

import { pickRun, pickTask, type CommandDeps, type Picked, type Target } from './commands';
import { describeError } from './logic/errors';
import {
  NOT_STARTED,
  REPLANNABLE,
  RESTARTABLE,
  WORKER_PROFILES,
  criteriaAfter,
  directDependents,
  dropConsequence,
  dropModes,
  dropReport,
  restartReport,
  validateGuidance,
  type DropMode,
} from './logic/planEdits';
import { taskState } from './logic/stateStyle';
import type { BosunRequests, Task, UpdateTaskParams } from './protocol';

type Method = keyof BosunRequests;

/** Send one request; a refusal becomes an error message and undefined. */
async function ask<M extends Method>(d: CommandDeps, method: M, params: BosunRequests[M]['params']): Promise<BosunRequests[M]['result'] | undefined> {
  try {
    return await d.daemon.request(method, params);
  } catch (err) {
    void vscode.window.showErrorMessage(`Bosun: ${describeError(method, err)}`);
    return undefined;
  }
}

function keep(d: CommandDeps, tasks: readonly Task[]): void {
  for (const t of tasks) d.cache.putTask(t, d.cache.lastSeq);
}

async function update(d: CommandDeps, params: UpdateTaskParams): Promise<Task | undefined> {
  const result = await ask(d, 'bosun/updateTask', params);
  if (result) keep(d, [result.task]);
  return result?.task;
}

/** Add (or remove) one dependency of a task, picked among the run's other tasks. */
export async function editDependency(d: CommandDeps, target: Target, add: boolean): Promise<Task | undefined> {
  const task = await pickTask(d, target);
  if (!task) return undefined;
  const deps = new Set(task.dependencies ?? []);
  const candidates = d.cache.tasksOf(task.runId).filter((t) => t.id !== task.id && deps.has(t.id) !== add);
  if (!candidates.length) {
    void vscode.window.showInformationMessage(add ? 'Bosun: no other task to depend on.' : 'Bosun: this task has no dependencies.');
    return undefined;
  }
  const items = candidates.map((t): Picked<Task> => ({ label: t.title, description: `${t.key} · ${taskState(t)}`, value: t }));
  const other = await d.ui().pickOne(items, { title: add ? `"${task.title}" waits for…` : `"${task.title}" no longer waits for…` });
  if (!other) return undefined;
  // A cycle is refused by the daemon with a message naming it.
  return update(d, { taskId: task.id, addDependencies: add ? [other.value.id] : [], removeDependencies: add ? [] : [other.value.id] });
}

type Field = 'title' | 'description' | 'criteria' | 'profile';

async function criteriaEdit(d: CommandDeps, task: Task): Promise<string[] | undefined> {
  const criteria = task.acceptanceCriteria ?? [];
  const items: Picked<number | undefined>[] = [
    ...criteria.map((c, i): Picked<number | undefined> => ({ label: c, description: 'edit (empty removes it)', value: i })),
    { label: '$(add) Add a criterion…', value: undefined },
  ];
  const picked = await d.ui().pickOne(items, { title: `Acceptance criteria of "${task.title}"` });
  if (!picked) return undefined;
  const index = picked.value;
  const text = await d.ui().input({
    title: index === undefined ? 'New acceptance criterion' : 'Acceptance criterion (empty removes it)',
    value: index === undefined ? '' : criteria[index],
    ignoreFocusOut: true,
  });
  if (text === undefined) return undefined;
  return criteriaAfter(criteria, index, text);
}

/** Change one of a not-started task's title, description, criteria or profile. */
export async function editTask(d: CommandDeps, target: Target): Promise<Task | undefined> {
  const task = await pickTask(d, target, NOT_STARTED);
  if (!task) return undefined;
  const fields: Picked<Field>[] = [
    { label: 'Title', description: task.title, value: 'title' },
    { label: 'Description', description: (task.description ?? '').split('\n', 1)[0], value: 'description' },
    { label: 'Acceptance criteria', description: String((task.acceptanceCriteria ?? []).length), value: 'criteria' },
    { label: 'Profile', description: task.profile ?? 'coder', value: 'profile' },
  ];
  const field = (await d.ui().pickOne(fields, { title: `Edit "${task.title}"` }))?.value;
  if (field === 'title') {
    const title = await d.ui().input({ title: 'Title', value: task.title, validateInput: (v) => (v.trim() ? undefined : 'A task needs a title.') });
    return title?.trim() ? update(d, { taskId: task.id, title: title.trim() }) : undefined;
  }
  if (field === 'description') {
    const description = await d.ui().input({ title: 'Description', value: task.description ?? '', ignoreFocusOut: true });
    return description === undefined ? undefined : update(d, { taskId: task.id, description });
  }
  if (field === 'criteria') {
    const acceptanceCriteria = await criteriaEdit(d, task);
    return acceptanceCriteria ? update(d, { taskId: task.id, acceptanceCriteria }) : undefined;
  }
  if (field === 'profile') {
    const items = WORKER_PROFILES.map((p): Picked<(typeof WORKER_PROFILES)[number]> => ({ label: p, description: p === task.profile ? 'current' : undefined, value: p }));
    const profile = (await d.ui().pickOne(items, { title: `Profile of "${task.title}"` }))?.value;
    return profile ? update(d, { taskId: task.id, profile }) : undefined;
  }
  return undefined;
}

/** Drop a task that has not started, saying first what happens to the tasks waiting for it. */
export async function dropTask(d: CommandDeps, target: Target): Promise<boolean> {
  const task = await pickTask(d, target, NOT_STARTED);
  if (!task) return false;
  const tasks = d.cache.tasksOf(task.runId);
  let mode: DropMode = 'rewire';
  if (directDependents(task, tasks).length) {
    const items = dropModes(task, tasks).map((m): Picked<DropMode> => ({ label: m.label, detail: m.detail, value: m.mode }));
    const picked = await d.ui().pickOne(items, { title: `Other tasks wait for "${task.title}"` });
    if (!picked) return false;
    mode = picked.value;
  }
  const detail = `It will never run and no one is asked about it. ${dropConsequence(task, tasks, mode)}`;
  if (!(await d.ui().confirm(`Drop "${task.title}" (#${String(task.id)} ${task.key}) from run #${String(task.runId)}?`, detail, 'Drop'))) return false;
  const result = await ask(d, 'bosun/dropTask', { taskId: task.id, dependents: mode, reason: 'dropped from the plan in VS Code' });
  if (!result) return false;
  keep(d, [...result.dropped, ...(result.rewired ?? [])]);
  void vscode.window.showInformationMessage(`Bosun: ${dropReport(result, tasks)}`);
  return true;
}

/** Ask a planner to revise a live run, with the human's guidance. */
export async function replanRun(d: CommandDeps, target: Target): Promise<Task | undefined> {
  const run = await pickRun(d, target, (r) => REPLANNABLE.includes(r.state));
  if (!run) return undefined;
  const guidance = await d.ui().input({
    title: `Replan run #${String(run.id)}`,
    prompt: 'What should the new plan do differently? A planner sees the run as it is and this.',
    ignoreFocusOut: true,
    validateInput: validateGuidance,
  });
  if (guidance === undefined || validateGuidance(guidance)) return undefined;
  const result = await ask(d, 'bosun/replan', { runId: run.id, guidance: guidance.trim() });
  if (!result) return undefined;
  keep(d, [result.task]);
  void vscode.window.showInformationMessage(`Bosun: run #${String(run.id)}: planner task ${result.task.key} added.`);
  return result.task;
}

/** Reopen a cancelled or failed run's unfinished work (all of it, or from chosen tasks). */
export async function restartRun(d: CommandDeps, target: Target): Promise<boolean> {
  const run = await pickRun(d, target, (r) => RESTARTABLE.includes(r.state));
  if (!run) return false;
  const abandoned = d.cache.tasksOf(run.id).filter((t) => taskState(t) === 'abandoned');
  let fromTasks: number[] = [];
  if (abandoned.length > 1) {
    const all: Picked<boolean> = { label: "Everything the run's end abandoned", value: true };
    const some: Picked<boolean> = { label: 'From chosen tasks (and what was abandoned downstream of them)…', value: false };
    const how = await d.ui().pickOne([all, some], { title: `Restart run #${String(run.id)}` });
    if (!how) return false;
    if (!how.value) {
      const items = abandoned.map((t): Picked<number> => ({ label: t.title, description: t.key, detail: t.reason ?? undefined, value: t.id }));
      const picked = await d.ui().pickMany(items, { title: 'Reopen from…' });
      if (!picked?.length) return false;
      fromTasks = picked.map((p) => p.value);
    }
  }
  const result = await ask(d, 'bosun/restartRun', { runId: run.id, fromTasks });
  if (!result) return false;
  d.cache.putRun(result.run, d.cache.lastSeq);
  keep(d, result.reopened);
  void vscode.window.showInformationMessage(`Bosun: ${restartReport(result)}`);
  return true;
}

/** Register the plan-editing commands; returns their disposables. */
export function registerPlanCommands(d: CommandDeps): vscode.Disposable[] {
  const table: Record<string, (target: Target) => unknown> = {
    'bosun.addDependency': (target) => editDependency(d, target, true),
    'bosun.removeDependency': (target) => editDependency(d, target, false),
    'bosun.editTask': (target) => editTask(d, target),
    'bosun.dropTask': (target) => dropTask(d, target),
    'bosun.replanRun': (target) => replanRun(d, target),
    'bosun.restartRun': (target) => restartRun(d, target),
  };
  return Object.entries(table).map(([id, fn]) => vscode.commands.registerCommand(id, fn));
}
