/** Questions the daemon asks a human: the open ones, how to show them, how to answer. */

import type { HumanPrompt, PromptKind, PromptResolved, ResolveAction, ResolveTaskParams, Task } from '../protocol';
import { mdCode, mdFence, mdText } from './markdown';

/** How an answer is offered, and what text it needs from the person. */
export interface ActionSpec {
  readonly label: string;
  /** For a notification button, where space is short. */
  readonly short: string;
  readonly detail: string;
  /** The input box prompt when the action needs words; undefined when it does not. */
  readonly ask: string | undefined;
  /** Whether the words are required (an empty answer cancels). */
  readonly required: boolean;
}

export const ACTIONS: Readonly<Record<ResolveAction, ActionSpec>> = {
  retry: { label: 'Retry with guidance…', short: 'Retry…', detail: 'Another attempt, with your instructions added', ask: 'Guidance for the next attempt (may be empty)', required: false },
  abandon: { label: 'Abandon', short: 'Abandon', detail: 'Give up on this task; its dependents will wait for you', ask: undefined, required: false },
  spawn: { label: 'Spawn a replacement…', short: 'Replace…', detail: 'A new task takes over its dependents', ask: 'What the replacement task should do', required: true },
  approve: { label: 'Approve', short: 'Approve', detail: 'Allow this once', ask: undefined, required: false },
  deny: { label: 'Deny…', short: 'Deny…', detail: 'Refuse; the agent is told why', ask: 'Why (told to the agent; may be empty)', required: false },
};

export const PROMPT_KINDS: Readonly<Record<PromptKind, { label: string; icon: string }>> = {
  retries_spent: { label: 'retries spent', icon: 'bell-dot' },
  budget_spent: { label: 'budget spent', icon: 'credit-card' },
  ask_human: { label: 'asks you', icon: 'question' },
  tool_approval: { label: 'tool approval', icon: 'shield' },
  dependency_abandoned: { label: 'dependency abandoned', icon: 'debug-disconnect' },
  merge_conflict: { label: 'merge conflict', icon: 'git-merge' },
  landing: { label: 'landing', icon: 'rocket' },
  interrupted: { label: 'interrupted', icon: 'debug-pause' },
  needs_human: { label: 'needs you', icon: 'bell' },
  tests_cannot_run: { label: 'tests cannot run', icon: 'tools' },
  model_unusable: { label: 'model cannot be used', icon: 'key' },
  setup_failed: { label: 'set-up failed', icon: 'tools' },
  stalled_again: { label: 'stalled again', icon: 'sync-ignored' },
};

/** Label and icon of a prompt kind, tolerant of kinds this client does not know. */
export function promptKind(kind: string): { label: string; icon: string } {
  return (PROMPT_KINDS as Partial<Record<string, { label: string; icon: string }>>)[kind] ?? { label: kind.replace(/_/g, ' '), icon: 'bell' };
}

/** Action spec, tolerant of actions this client does not know. */
export function actionSpec(action: string): ActionSpec {
  return (ACTIONS as Partial<Record<string, ActionSpec>>)[action] ?? { label: action, short: action, detail: '', ask: undefined, required: false };
}

/** One answer offered for a prompt: one of the agent's suggested answers, or an action. */
export interface PromptAnswer {
  readonly label: string;
  /** For a notification button, where space is short. */
  readonly short: string;
  readonly detail: string;
  readonly action: ResolveAction;
  /** The suggested answer sent as `choice` (with `retry`); undefined for a plain action. */
  readonly choice?: string;
}

// Notification buttons sit on one line: a long suggested answer is cut there (the quick
// pick shows it whole).
const BUTTON_CHARS = 40;

function clipped(text: string, limit: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= limit ? line : `${line.slice(0, limit - 1)}…`;
}

/**
 * A prompt's answers in the order they are offered: the agent's suggested answers first
 * (each a `retry` carrying it as `choice`, which the daemon accepts only where `retry`
 * is an option), then the prompt's actions.
 */
export function promptAnswers(prompt: Pick<HumanPrompt, 'options'> & { readonly choices?: readonly string[] }): PromptAnswer[] {
  const choices = prompt.options.includes('retry') ? (prompt.choices ?? []) : [];
  const suggested = choices.map(
    (choice): PromptAnswer => ({ label: clipped(choice, 200), short: clipped(choice, BUTTON_CHARS), detail: 'Suggested by the agent: sent to it as your answer', action: 'retry', choice }),
  );
  const actions = prompt.options.map((action): PromptAnswer => {
    const spec = actionSpec(action);
    return { label: spec.label, short: spec.short, detail: spec.detail, action };
  });
  return [...suggested, ...actions];
}

/** The resolveTask params answering `prompt` with `action`, optional words and choice. */
export function resolveParams(prompt: Pick<HumanPrompt, 'promptId' | 'taskId'>, action: ResolveAction, text?: string, choice?: string): ResolveTaskParams {
  const params: ResolveTaskParams = { action, by: 'vscode' };
  if (prompt.promptId) params.promptId = prompt.promptId;
  else if (prompt.taskId !== null && prompt.taskId !== undefined) params.taskId = prompt.taskId;
  if (choice !== undefined) params.choice = choice;
  const words = text?.trim();
  if (words) {
    if (action === 'spawn') params.description = words;
    else params.guidance = words;
  }
  return params;
}

/** The open prompts; an answer from any client removes one everywhere. */
export class PromptQueue {
  private readonly open = new Map<string, HumanPrompt>();
  private readonly answered = new Map<string, PromptResolved>();
  private readonly addedIn = new Map<string, number>();
  private generation = 0;
  private readonly listeners = new Set<() => void>();

  /** Call `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Call just before asking for a listing; hand the mark to `replace`. */
  mark(): number {
    this.generation += 1;
    return this.generation;
  }

  /**
   * Replace the queue with a listing requested at `mark` (after a (re)connect). Prompts
   * notified while the listing was on its way are newer than it and stay; answered ones go.
   */
  replace(prompts: readonly HumanPrompt[], mark: number): void {
    const newer = [...this.open.values()].filter((p) => (this.addedIn.get(p.promptId) ?? 0) >= mark);
    this.open.clear();
    for (const p of [...prompts, ...newer]) if (!this.answered.has(p.promptId)) this.open.set(p.promptId, p);
    this.emit();
  }

  /** Add a prompt; false when it is already open or was already answered. */
  add(prompt: HumanPrompt): boolean {
    if (this.open.has(prompt.promptId) || this.answered.has(prompt.promptId)) return false;
    this.open.set(prompt.promptId, prompt);
    this.addedIn.set(prompt.promptId, this.generation);
    this.emit();
    return true;
  }

  /** Record an answer (from this or any other client). */
  resolved(note: PromptResolved): void {
    this.answered.set(note.promptId, note);
    this.open.delete(note.promptId);
    this.emit();
  }

  /** Who answered a prompt, if it was answered while this client watched. */
  answer(promptId: string): PromptResolved | undefined {
    return this.answered.get(promptId);
  }

  /** One open prompt. */
  get(promptId: string): HumanPrompt | undefined {
    return this.open.get(promptId);
  }

  /** The open prompt about a task, if any. */
  forTask(taskId: number): HumanPrompt | undefined {
    return this.all().find((p) => p.taskId === taskId);
  }

  /** Open prompts, oldest first. */
  all(): HumanPrompt[] {
    return [...this.open.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.promptId.localeCompare(b.promptId));
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

/** Markdown explaining a prompt: why, and for a tool approval what the tool would do. */
export function promptTooltip(prompt: HumanPrompt, task: Task | undefined): string {
  const title = task ? mdText(task.title) : `Run #${prompt.runId}`;
  const parts = [`**${title}** — ${promptKind(prompt.kind).label}`, mdText(prompt.reason)];
  if (prompt.approval) {
    const args = JSON.stringify(prompt.approval.arguments ?? {}, null, 2);
    const rule = prompt.approval.rule ? ` (rule ${mdCode(prompt.approval.rule)})` : '';
    parts.push(`Tool ${mdCode(prompt.approval.tool)}${rule}\n\n${mdFence(args, 'json')}`);
  }
  parts.push(`Answers: ${mdText(promptAnswers(prompt).map((a) => (a.choice === undefined ? a.label : `"${a.label}"`)).join(', '))}`);
  return parts.join('\n\n');
}

/** The first line of a reason, for places with room for one. */
export function headline(text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? '';
}
