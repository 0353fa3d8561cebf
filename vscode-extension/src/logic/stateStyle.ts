/** How each run and task state looks: codicon, theme colour, words. */

import type { Run, RunState, Task, TaskState } from '../protocol';

/** A codicon id, a theme colour id (or undefined for the default) and a label. */
export interface StateStyle {
  readonly icon: string;
  readonly color: string | undefined;
  readonly label: string;
}

// `Record` over the generated unions makes a new protocol state a compile error here.
export const TASK_STYLES: Readonly<Record<TaskState, StateStyle>> = {
  planned: { icon: 'circle-outline', color: 'disabledForeground', label: 'planned' },
  ready: { icon: 'circle-large-outline', color: 'charts.blue', label: 'ready' },
  active: { icon: 'sync~spin', color: 'charts.blue', label: 'active' },
  awaiting_qa: { icon: 'beaker', color: 'charts.purple', label: 'awaiting QA' },
  awaiting_review: { icon: 'eye', color: 'charts.yellow', label: 'awaiting review' },
  complete: { icon: 'pass-filled', color: 'charts.green', label: 'complete' },
  failed: { icon: 'error', color: 'charts.red', label: 'failed' },
  waiting_human: { icon: 'bell-dot', color: 'charts.orange', label: 'waiting for you' },
  abandoned: { icon: 'circle-slash', color: 'disabledForeground', label: 'abandoned' },
};

export const RUN_STYLES: Readonly<Record<RunState, StateStyle>> = {
  pending: { icon: 'clock', color: undefined, label: 'pending' },
  planning: { icon: 'lightbulb', color: 'charts.purple', label: 'planning' },
  running: { icon: 'sync~spin', color: 'charts.blue', label: 'running' },
  paused: { icon: 'debug-pause', color: 'charts.yellow', label: 'paused' },
  landing: { icon: 'git-merge', color: 'charts.blue', label: 'landing' },
  completed: { icon: 'pass-filled', color: 'charts.green', label: 'completed' },
  failed: { icon: 'error', color: 'charts.red', label: 'failed' },
  cancelled: { icon: 'circle-slash', color: 'disabledForeground', label: 'cancelled' },
};

const FINISHED_RUN_STATES: ReadonlySet<RunState> = new Set(['completed', 'failed', 'cancelled']);
const FINISHED_TASK_STATES: ReadonlySet<TaskState> = new Set(['complete', 'abandoned']);

/** The task's state; the schema lets the daemon omit it when it is the default. */
export function taskState(task: Task): TaskState {
  return task.state ?? 'planned';
}

/** Style of a task, tolerant of a state this client does not know yet. */
export function taskStyle(task: Task): StateStyle {
  const state = taskState(task);
  return (TASK_STYLES as Partial<Record<string, StateStyle>>)[state] ?? { icon: 'question', color: undefined, label: state };
}

/** Style of a run, tolerant of a state this client does not know yet. */
export function runStyle(run: Run): StateStyle {
  return (RUN_STYLES as Partial<Record<string, StateStyle>>)[run.state] ?? { icon: 'question', color: undefined, label: run.state };
}

/** A run that will not change on its own any more. */
export function isRunFinished(run: Run): boolean {
  return FINISHED_RUN_STATES.has(run.state);
}

/** A task that counts as done for progress. */
export function isTaskDone(task: Task): boolean {
  return FINISHED_TASK_STATES.has(taskState(task));
}
