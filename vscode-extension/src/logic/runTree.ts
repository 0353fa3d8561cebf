/** The Runs and Needs-you trees as plain data, built from runs and their tasks. */

import type { HumanPrompt, Run, Task } from '../protocol';
import { formatAttempt, formatCacheAndEstimate, formatCost, joinParts, progress } from './format';
import { mdCode, mdText } from './markdown';
import { headline, promptKind, promptTooltip } from './prompts';
import { runStyle, taskState, taskStyle } from './stateStyle';

/** One row of a tree, independent of the VS Code API. */
export interface NodeModel {
  readonly id: string;
  readonly kind: 'run' | 'phase' | 'task' | 'prompt';
  readonly label: string;
  readonly description: string;
  /** Markdown. */
  readonly tooltip: string;
  readonly icon: string;
  readonly color: string | undefined;
  /** `run:<state>` / `task:<state>` / `phase`: menus match on it. */
  readonly contextValue: string;
  readonly runId: number;
  readonly taskId: number | undefined;
  readonly promptId?: string;
  readonly children: readonly NodeModel[];
}

const LABEL_MAX = 80;

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0]?.trim() ?? '';
  return line.length > LABEL_MAX ? `${line.slice(0, LABEL_MAX - 1)}…` : line;
}

/** Tasks ordered so each comes after its dependencies; ties and cycles by id. */
export function topologicalOrder(tasks: readonly Task[]): Task[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const pending = new Map(tasks.map((t) => [t.id, (t.dependencies ?? []).filter((d) => byId.has(d)).length]));
  const dependents = new Map<number, number[]>();
  for (const t of tasks) {
    for (const d of t.dependencies ?? []) {
      if (byId.has(d)) dependents.set(d, [...(dependents.get(d) ?? []), t.id]);
    }
  }
  const out: Task[] = [];
  const ready = tasks.filter((t) => pending.get(t.id) === 0).map((t) => t.id);
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const id = ready.shift() as number;
    out.push(byId.get(id) as Task);
    for (const next of dependents.get(id) ?? []) {
      const left = (pending.get(next) ?? 0) - 1;
      pending.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  // A cycle should never reach a client (the daemon refuses it); show it rather than lose it.
  const placed = new Set(out.map((t) => t.id));
  return [...out, ...tasks.filter((t) => !placed.has(t.id)).sort((a, b) => a.id - b.id)];
}

/** Markdown tooltip of a task: description, acceptance criteria with QA verdicts, reason. */
export function taskTooltip(task: Task): string {
  const style = taskStyle(task);
  const parts = [`**${mdText(task.title)}** ${mdCode(task.key)}`, mdText(joinParts([style.label, task.profile ?? '', formatAttempt(task), formatCost(task.cost), formatCacheAndEstimate(task.cost)]))];
  if (task.description) parts.push(mdText(task.description));
  const criteria = task.acceptanceCriteria ?? [];
  if (criteria.length) {
    const verdicts = new Map((task.verdicts ?? []).map((v) => [v.criterion, v]));
    const lines = criteria.map((c) => {
      const v = verdicts.get(c);
      // Theme icons, not emoji: they render with every font and follow the theme.
      const mark = v === undefined ? '$(circle-outline)' : v.passed ? '$(pass-filled)' : '$(error)';
      return `- ${mark} ${mdText(c)}${v?.evidence ? ` — ${mdText(v.evidence)}` : ''}`;
    });
    parts.push(`**Acceptance criteria**\n\n${lines.join('\n')}`);
  }
  if (task.reason) parts.push(`**Why:** ${mdText(task.reason)}`);
  return parts.join('\n\n');
}

/** The tree row of one task (children are tasks it spawned). */
export function taskNode(task: Task, keysById: ReadonlyMap<number, string>, children: readonly NodeModel[] = []): NodeModel {
  const style = taskStyle(task);
  const after = (task.dependencies ?? []).map((d) => keysById.get(d) ?? `#${d}`);
  return {
    id: `task:${task.id}`,
    kind: 'task',
    label: task.title,
    description: joinParts([style.label, formatAttempt(task), formatCost(task.cost), after.length ? `after ${after.join(', ')}` : '']),
    tooltip: taskTooltip(task),
    icon: style.icon,
    color: style.color,
    contextValue: `task:${taskState(task)}`,
    runId: task.runId,
    taskId: task.id,
    children,
  };
}

function taskNodes(tasks: readonly Task[]): NodeModel[] {
  const keysById = new Map(tasks.map((t) => [t.id, t.key]));
  const ids = new Set(tasks.map((t) => t.id));
  const ordered = topologicalOrder(tasks);
  const build = (task: Task): NodeModel =>
    taskNode(
      task,
      keysById,
      ordered.filter((t) => t.parentId === task.id).map(build),
    );
  // Spawned tasks sit under their parent; the rest by phase, in dependency order.
  const roots = ordered.filter((t) => t.parentId === null || t.parentId === undefined || !ids.has(t.parentId));
  const phases = [...new Set(roots.map((t) => t.phase ?? ''))];
  if (phases.length <= 1) return roots.map(build);
  return phases.map((phase) => {
    const members = roots.filter((t) => (t.phase ?? '') === phase);
    const { done, total } = progress(members);
    return {
      id: `phase:${members[0]?.runId ?? 0}:${phase}`,
      kind: 'phase',
      label: phase || 'unphased',
      description: `${done}/${total}`,
      tooltip: `Phase **${mdText(phase || 'unphased')}**: ${done} of ${total} done`,
      icon: 'list-tree',
      color: undefined,
      contextValue: 'phase',
      runId: members[0]?.runId ?? 0,
      taskId: undefined,
      children: members.map(build),
    };
  });
}

/** The tree row of a run with its tasks. */
export function runNode(run: Run, tasks: readonly Task[]): NodeModel {
  const style = runStyle(run);
  const { done, total } = progress(tasks);
  const tooltip = [`**Run #${run.id}** — ${style.label}`, mdText(run.objective)];
  if (run.runBranch) tooltip.push(`Branch ${mdCode(run.runBranch)}`);
  if (run.reason) tooltip.push(`**Why:** ${mdText(run.reason)}`);
  return {
    id: `run:${run.id}`,
    kind: 'run',
    label: firstLine(run.objective) || `Run #${run.id}`,
    description: joinParts([`#${run.id}`, style.label, total ? `${done}/${total}` : '', formatCost(run.cost)]),
    tooltip: tooltip.join('\n\n'),
    icon: style.icon,
    color: style.color,
    contextValue: `run:${run.state}`,
    runId: run.id,
    taskId: undefined,
    children: taskNodes(tasks),
  };
}

/** All runs, newest first. */
export function runsTree(runs: readonly Run[], tasksOf: (runId: number) => readonly Task[]): NodeModel[] {
  return [...runs].sort((a, b) => b.id - a.id).map((r) => runNode(r, tasksOf(r.id)));
}

/** The Needs-you row of one open prompt. */
export function promptNode(prompt: HumanPrompt, task: Task | undefined): NodeModel {
  const kind = promptKind(prompt.kind);
  return {
    id: `prompt:${prompt.promptId}`,
    kind: 'prompt',
    label: task?.title ?? `Run #${prompt.runId}`,
    description: joinParts([`run #${prompt.runId}`, kind.label]),
    tooltip: promptTooltip(prompt, task),
    icon: kind.icon,
    color: 'charts.orange',
    contextValue: `prompt:${prompt.kind}`,
    runId: prompt.runId,
    taskId: prompt.taskId ?? undefined,
    promptId: prompt.promptId,
    children: [],
  };
}

/**
 * What waits for a human: every open prompt (oldest first), then tasks waiting for a
 * human that no prompt covers (a daemon that does not send prompts still shows them).
 */
export function needsYouTree(prompts: readonly HumanPrompt[], runs: readonly Run[], tasksOf: (runId: number) => readonly Task[]): NodeModel[] {
  const tasks = new Map(runs.flatMap((r) => tasksOf(r.id)).map((t) => [t.id, t]));
  const covered = new Set(prompts.map((p) => p.taskId));
  const rows = prompts.map((p) => promptNode(p, p.taskId === null || p.taskId === undefined ? undefined : tasks.get(p.taskId)));
  const waiting = [...tasks.values()].filter((t) => taskState(t) === 'waiting_human' && !covered.has(t.id));
  waiting.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt) || a.id - b.id);
  return [
    ...rows,
    ...waiting.map((t) => {
      const node = taskNode(t, new Map());
      return { ...node, id: `needs:${t.id}`, description: joinParts([`run #${t.runId}`, t.reason ? headline(t.reason) : '']) };
    }),
  ];
}
