/**
 * Editing a live run's plan from the tree, as plain data: which edits a task or run
 * allows, what dropping a task does to the tasks waiting for it (said before it is
 * done), and the sentences that report what the daemon did.
 */

import type { DropTaskResult, Profile, RestartRunResult, Run, Task, TaskState } from '../protocol';
import { taskState } from './stateStyle';

/** States a task has not started in: its plan may still change (the daemon checks too). */
export const NOT_STARTED: readonly TaskState[] = ['planned', 'ready'];
const FINISHED: readonly TaskState[] = ['complete', 'abandoned'];
/** Run states that take a replan (the daemon's LIVE). */
export const REPLANNABLE: readonly Run['state'][] = ['planning', 'running', 'paused'];
/** Run states `bosun/restartRun` accepts. */
export const RESTARTABLE: readonly Run['state'][] = ['cancelled', 'failed'];
/** Profiles a worker task may take (the planning and merging ones are the engine's own). */
export const WORKER_PROFILES: readonly Profile[] = ['coder', 'tester', 'test_architect', 'researcher', 'writer'];

export type DropMode = 'rewire' | 'drop';

/** Whether a task's title, description, criteria and profile may still be edited. */
export function notStarted(task: Task): boolean {
  return NOT_STARTED.includes(taskState(task)) && (task.attempt ?? 0) === 0;
}

function label(task: Task): string {
  return `#${String(task.id)} ${task.key}`;
}

/** The unfinished tasks that wait for `task` directly, by id. */
export function directDependents(task: Task, tasks: readonly Task[]): Task[] {
  return tasks
    .filter((t) => t.id !== task.id && (t.dependencies ?? []).includes(task.id) && !FINISHED.includes(taskState(t)))
    .sort((a, b) => a.id - b.id);
}

/** Every unfinished task downstream of `task` (what `dropTask` with `drop` takes too). */
export function downstream(task: Task, tasks: readonly Task[]): Task[] {
  const found = new Map<number, Task>();
  const todo = [task];
  for (let next = todo.pop(); next; next = todo.pop()) {
    for (const d of directDependents(next, tasks)) {
      if (!found.has(d.id)) {
        found.set(d.id, d);
        todo.push(d);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.id - b.id);
}

/** What dropping `task` with `mode` will do, in words, for the confirmation. */
export function dropConsequence(task: Task, tasks: readonly Task[], mode: DropMode): string {
  const direct = directDependents(task, tasks);
  if (!direct.length) return 'No task waits for it.';
  if (mode === 'drop') return `Also dropped (everything downstream): ${downstream(task, tasks).map(label).join(', ')}.`;
  const keys = new Map(tasks.map((t) => [t.id, t.key]));
  const upstream = (task.dependencies ?? []).map((d) => keys.get(d) ?? `#${String(d)}`);
  const instead = upstream.length ? `what it waited for (${upstream.join(', ')})` : 'nothing in its place';
  return `Its dependents ${direct.map(label).join(', ')} will wait for ${instead} instead.`;
}

/** The choices for a task others wait on, with what each does. */
export function dropModes(task: Task, tasks: readonly Task[]): { mode: DropMode; label: string; detail: string }[] {
  return [
    { mode: 'rewire', label: 'Drop it, keep its dependents', detail: dropConsequence(task, tasks, 'rewire') },
    { mode: 'drop', label: 'Drop it and its dependents', detail: dropConsequence(task, tasks, 'drop') },
  ];
}

/** The notification after a drop: what went, and who waits for what now. */
export function dropReport(result: DropTaskResult, tasks: readonly Task[]): string {
  const [first, ...others] = result.dropped;
  const keys = new Map([...tasks, ...result.dropped, ...(result.rewired ?? [])].map((t) => [t.id, t.key]));
  const parts = [`dropped ${first ? label(first) : 'the task'}`];
  if (others.length) parts.push(`also dropped ${others.map(label).join(', ')}`);
  for (const t of result.rewired ?? []) {
    const waits = (t.dependencies ?? []).map((d) => keys.get(d) ?? `#${String(d)}`);
    parts.push(`${label(t)} now waits for ${waits.length ? waits.join(', ') : 'nothing'}`);
  }
  return `${parts.join('; ')}.`;
}

/** The criteria after one is changed (`index`), removed (empty text) or added (no index). */
export function criteriaAfter(criteria: readonly string[], index: number | undefined, text: string): string[] {
  const value = text.trim();
  const out = [...criteria];
  if (index === undefined) {
    if (value) out.push(value);
  } else if (value) {
    out[index] = value;
  } else {
    out.splice(index, 1);
  }
  return out;
}

/** Why a replan's guidance cannot be sent, or undefined when it can. */
export function validateGuidance(text: string): string | undefined {
  return text.trim() ? undefined : 'Say what the new plan should do differently.';
}

/** The notification after a restart: the run's state and what replaced what. */
export function restartReport(result: RestartRunResult): string {
  const reopened = result.reopened.map(label).join(', ');
  return `run #${String(result.run.id)} restarted (${result.run.state}); reopened ${reopened || 'nothing'}.`;
}
