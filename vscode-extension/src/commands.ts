/** Every `bosun.*` command: from the palette, the tree's menus, or other code. */

import * as vscode from 'vscode';

import type { ApiKeys } from './apiKeys';
import type { Daemon } from './daemon';
import { describeError } from './logic/errors';
import { createRunParams, optionItems, validateObjective, type OptionItem } from './logic/objective';
import { actionSpec, promptAnswers, resolveParams, type PromptAnswer } from './logic/prompts';
import type { PromptQueue } from './logic/prompts';
import type { TaskGraph } from './graph';
import type { Reviews } from './review';
import type { RunCache } from './logic/runCache';
import type { BosunSettings } from './logic/settings';
import { isRunFinished, taskState } from './logic/stateStyle';
import type { RunSync } from './logic/sync';
import type { CreateRunParams, ResolveAction, Run, RunOptions, Task, TaskState } from './protocol';

/** The UI calls commands make, behind a seam so the end-to-end suite can answer them. */
export interface Ui {
  input(options: vscode.InputBoxOptions): Thenable<string | undefined>;
  pickOne<T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions): Thenable<T | undefined>;
  pickMany<T extends vscode.QuickPickItem>(items: T[], options: vscode.QuickPickOptions): Thenable<T[] | undefined>;
  /** A modal question with one action button; true only when that button was chosen. */
  confirm(message: string, detail: string, action: string): Thenable<boolean>;
}

/** The real VS Code UI. */
export const windowUi: Ui = {
  input: (options) => vscode.window.showInputBox(options),
  pickOne: (items, options) => vscode.window.showQuickPick(items, { ...options, canPickMany: false }),
  pickMany: (items, options) => vscode.window.showQuickPick(items, { ...options, canPickMany: true }),
  confirm: (message, detail, action) => vscode.window.showWarningMessage(message, { modal: true, detail }, action).then((a) => a === action),
};

/** What the commands act on. */
export interface CommandDeps {
  readonly daemon: Daemon;
  readonly cache: RunCache;
  readonly sync: RunSync;
  readonly keys: ApiKeys;
  readonly output: vscode.OutputChannel;
  readonly queue: PromptQueue;
  readonly reviews: Reviews;
  readonly graph: TaskGraph;
  settings(): BosunSettings;
  ui(): Ui;
}

/** What a command may be invoked with: a tree row, ids, or nothing (then it asks). */
export type Target = { runId?: number; taskId?: number; promptId?: string } | undefined;

/** Arguments `bosun.startObjective` accepts to skip its prompts. */
export interface StartArgs {
  readonly objective?: string;
  readonly options?: RunOptions;
}

export interface Picked<T> extends vscode.QuickPickItem {
  readonly value: T;
}

export async function pickRun(d: CommandDeps, target: Target, filter: (r: Run) => boolean): Promise<Run | undefined> {
  if (target?.runId !== undefined) return d.cache.run(target.runId);
  const items = d.cache
    .allRuns()
    .filter(filter)
    .sort((a, b) => b.id - a.id)
    .map((r): Picked<Run> => ({ label: `#${r.id} ${r.objective.split('\n', 1)[0] ?? ''}`, description: r.state, value: r }));
  if (!items.length) {
    void vscode.window.showInformationMessage('Bosun: no run to act on.');
    return undefined;
  }
  return (await d.ui().pickOne(items, { title: 'Which run?', matchOnDescription: true }))?.value;
}

export async function pickTask(d: CommandDeps, target: Target, states?: readonly TaskState[]): Promise<Task | undefined> {
  if (target?.taskId !== undefined) return d.cache.task(target.taskId);
  const tasks = d.cache.allRuns().flatMap((r) => d.cache.tasksOf(r.id));
  const items = tasks
    .filter((t) => !states || states.includes(taskState(t)))
    .map((t): Picked<Task> => ({ label: t.title, description: `run #${t.runId} · ${taskState(t)}`, value: t }));
  if (!items.length) {
    void vscode.window.showInformationMessage('Bosun: no task to act on.');
    return undefined;
  }
  return (await d.ui().pickOne(items, { title: 'Which task?', matchOnDescription: true }))?.value;
}

async function send(d: CommandDeps, method: string, params: object, done?: string): Promise<unknown> {
  try {
    const result = await d.daemon.requestUntyped(method, params);
    if (done) void vscode.window.showInformationMessage(`Bosun: ${done}`);
    return result;
  } catch (err) {
    void vscode.window.showErrorMessage(`Bosun: ${describeError(method, err)}`, 'Open Log').then((a) => {
      if (a) d.output.show(true);
    });
    return undefined;
  }
}

/** Ask for an objective and options, then create the run; returns it. */
export async function startObjective(d: CommandDeps, args?: StartArgs): Promise<Run | undefined> {
  if (!vscode.workspace.workspaceFolders?.length) {
    void vscode.window.showErrorMessage('Bosun: open a folder (a git repository) to start an objective in it.');
    return undefined;
  }
  const settings = d.settings();
  const objective =
    args?.objective ??
    (await d.ui().input({
      title: 'Bosun: start an objective',
      prompt: 'What should be done in this repository?',
      placeHolder: 'e.g. Add a --json flag to the export command, with tests',
      ignoreFocusOut: true,
      validateInput: validateObjective,
    }));
  if (objective === undefined || validateObjective(objective)) return undefined;
  let params: CreateRunParams = { objective: objective.trim(), options: args?.options ?? {} };
  if (!args?.options) {
    const items = optionItems(settings).map((o): Picked<OptionItem> => ({ label: o.label, detail: o.detail, picked: o.picked, value: o }));
    const picked = await d.ui().pickMany(items, { title: 'Options for this run', ignoreFocusOut: true });
    if (picked === undefined) return undefined;
    const ids = new Set(picked.map((p) => p.value.id));
    const model = ids.has('model')
      ? await d.ui().input({ title: 'Model', prompt: 'provider:model, e.g. openai:gpt-4.1', value: settings.models.default ?? '' })
      : undefined;
    params = createRunParams(objective, ids, settings, model);
  }
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Bosun: starting the run…' },
    async () => {
      try {
        const { run } = await d.daemon.request('bosun/createRun', params);
        // Seq 0: the daemon's runChanged notification, carrying the real seq, wins.
        if (!d.cache.run(run.id)) d.cache.putRun(run, 0);
        void vscode.commands.executeCommand('bosun.runs.focus');
        return run;
      } catch (err) {
        void vscode.window.showErrorMessage(`Bosun: ${describeError('bosun/createRun', err)}`);
        return undefined;
      }
    },
  );
}

/**
 * Answer a prompt (or a task with no prompt) with `action`, asking for words when needed;
 * with `choice` (one of the agent's suggested answers) that is the answer, nothing is asked.
 */
export async function answer(d: CommandDeps, target: { promptId?: string; taskId?: number }, action: ResolveAction, title: string, choice?: string): Promise<void> {
  if (target.promptId) {
    const done = d.queue.answer(target.promptId);
    if (done) {
      void vscode.window.showInformationMessage(`Bosun: already answered (${done.action}) by ${done.by}.`);
      return;
    }
  }
  const spec = actionSpec(action);
  let text: string | undefined;
  if (spec.ask && choice === undefined) {
    text = await d.ui().input({ title: `${spec.label.replace('…', '')}: ${title}`, prompt: spec.ask, ignoreFocusOut: true });
    if (text === undefined || (spec.required && !text.trim())) return;
  }
  const params = resolveParams({ promptId: target.promptId ?? '', taskId: target.taskId }, action, text, choice);
  try {
    const result = await d.daemon.request('bosun/resolveTask', params);
    if (result.spawned) void vscode.window.showInformationMessage(`Bosun: spawned "${result.spawned.title}".`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Bosun: ${describeError('bosun/resolveTask', err)}`);
  }
}

async function resolveTask(d: CommandDeps, target: Target): Promise<void> {
  let prompt = target?.promptId ? d.queue.get(target.promptId) : undefined;
  let task: Task | undefined;
  if (!prompt) {
    task = await pickTask(d, target, ['waiting_human', 'failed']);
    if (!task) return;
    prompt = d.queue.forTask(task.id);
  }
  task ??= prompt?.taskId === null || prompt?.taskId === undefined ? undefined : d.cache.task(prompt.taskId);
  const title = task?.title ?? `run #${String(prompt?.runId ?? '?')}`;
  const answers = promptAnswers(prompt?.options.length ? prompt : { options: ['retry', 'abandon', 'spawn'] });
  const items = answers.map((a): Picked<PromptAnswer> => ({ label: a.label, detail: a.detail, value: a }));
  const picked = await d.ui().pickOne(items, { title: `Resolve "${title}"`, placeHolder: prompt?.reason ?? task?.reason ?? undefined });
  if (!picked) return;
  await answer(d, { ...(prompt ? { promptId: prompt.promptId } : {}), ...(task ? { taskId: task.id } : {}) }, picked.value.action, title, picked.value.choice);
}

async function setApiKey(d: CommandDeps): Promise<void> {
  const items = [...d.keys.providers().map((p): Picked<string> => ({ label: p, value: p })), { label: 'Other provider…', value: '' }];
  const pick = await d.ui().pickOne(items, { title: 'API key for which provider?' });
  if (!pick) return;
  const provider = pick.value || (await d.ui().input({ prompt: 'Provider name (as in model ids, e.g. "groq" for groq:…)', validateInput: (v) => (/^[a-z0-9_-]+$/.test(v) ? undefined : 'Lowercase letters, digits, - and _ only') }));
  if (!provider) return;
  const key = await d.ui().input({ prompt: `API key for ${provider} (empty removes it)`, password: true, ignoreFocusOut: true });
  if (key === undefined) return;
  await d.keys.set(provider, key.trim());
  // Keys travel only in initializationOptions: reconnect so the daemon gets the new one.
  await d.daemon.restart();
  void vscode.window.showInformationMessage(key.trim() ? `Bosun: stored the ${provider} key in VS Code's secret storage.` : `Bosun: removed the ${provider} key.`);
}

async function landRun(d: CommandDeps, target: Target): Promise<void> {
  const run = await pickRun(d, target, () => true);
  if (!run) return;
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Bosun: landing run #${String(run.id)}…` }, () =>
      d.daemon.request('bosun/landRun', { runId: run.id }),
    );
    const how = result.outcome === 'needs_human' ? `needs you: ${result.reason ?? 'see Needs you'}` : `${result.outcome.replace('_', ' ')} on ${result.branch}`;
    void vscode.window.showInformationMessage(`Bosun: run #${String(run.id)} ${how}.`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Bosun: ${describeError('bosun/landRun', err)}`);
  }
}


const runActive = (r: Run): boolean => !isRunFinished(r);

/** Register every command; returns their disposables. */
export function registerCommands(d: CommandDeps): vscode.Disposable[] {
  const control = (method: 'bosun/cancelRun' | 'bosun/pauseRun' | 'bosun/resumeRun', done: string, filter: (r: Run) => boolean) => async (target: Target) => {
    const run = await pickRun(d, target, filter);
    if (!run) return;
    try {
      await d.daemon.request(method, { runId: run.id });
      void vscode.window.showInformationMessage(`Bosun: ${done} run #${String(run.id)}.`);
    } catch (err) {
      void vscode.window.showErrorMessage(`Bosun: ${describeError(method, err)}`);
    }
  };
  const settle = (action: ResolveAction, states: TaskState[]) => async (target: Target) => {
    const task = await pickTask(d, target, states);
    if (!task) return;
    const prompt = d.queue.forTask(task.id);
    await answer(d, { ...(prompt ? { promptId: prompt.promptId } : {}), taskId: task.id }, action, task.title);
  };
  const table: Record<string, (...args: never[]) => unknown> = {
    'bosun.startObjective': (args?: StartArgs) => startObjective(d, args),
    'bosun.refresh': () => d.sync.reload(),
    'bosun.cancelRun': control('bosun/cancelRun', 'cancelled', runActive),
    'bosun.pauseRun': control('bosun/pauseRun', 'paused', (r) => r.state === 'running' || r.state === 'planning' || r.state === 'pending'),
    'bosun.resumeRun': control('bosun/resumeRun', 'resumed', (r) => r.state === 'paused'),
    'bosun.landRun': (target: Target) => landRun(d, target),
    'bosun.interruptTask': async (target: Target) => {
      const task = await pickTask(d, target, ['active', 'awaiting_qa']);
      if (task) await send(d, 'bosun/interruptTask', { taskId: task.id, reason: 'interrupted from VS Code' }, `interrupted "${task.title}"`);
    },
    'bosun.retryTask': settle('retry', ['failed', 'waiting_human', 'abandoned']),
    'bosun.abandonTask': settle('abandon', ['planned', 'ready', 'failed', 'waiting_human']),
    'bosun.resolveTask': (target: Target) => resolveTask(d, target),
    'bosun.setApiKey': () => setApiKey(d),
    'bosun.openLog': () => {
      d.output.show(true);
    },
    'bosun.restartDaemon': () => d.daemon.restart(),
    'bosun.reviewTask': async (target: Target) => {
      const task = await pickTask(d, target, ['awaiting_review', 'awaiting_qa', 'active', 'failed', 'waiting_human']);
      if (task) await d.reviews.start(task.id, task.title);
    },
    'bosun.showGraph': async (target: Target) => {
      const run = await pickRun(d, target, () => true);
      if (run) d.graph.show(run.id);
    },
  };
  return Object.entries(table).map(([id, fn]) => vscode.commands.registerCommand(id, fn));
}
