/** Entry point: wires the daemon connection, the cache, views, status bar and commands. */

import * as vscode from 'vscode';

import { ApiKeys } from './apiKeys';
import { answer, registerCommands, windowUi, type Ui } from './commands';
import { Daemon } from './daemon';
import { describeError, protocolProblem } from './logic/errors';
import { PromptQueue, headline, promptAnswers, type PromptAnswer } from './logic/prompts';
import { RunCache } from './logic/runCache';
import { needsYouTree, runsTree, type NodeModel } from './logic/runTree';
import { RESTART_KEYS, readSettings, type BosunSettings } from './logic/settings';
import { isRunFinished } from './logic/stateStyle';
import type { StatusModel } from './logic/status';
import { RunSync } from './logic/sync';
import { PROTOCOL_VERSION, type HumanPrompt, type Task } from './protocol';
import { StatusBar } from './statusBar';
import { TRANSCRIPT_SCHEME, TranscriptProvider, transcriptUri } from './transcript';
import { TaskGraph } from './graph';
import { Reviews } from './review';
import { ReviewComments } from './reviewComments';
import { NodeTree } from './views';
import { registerPlanCommands } from './planCommands';

/** What `activate` returns: for the end-to-end suite and other extensions. */
export interface BosunApi {
  readonly daemon: Daemon;
  readonly cache: RunCache;
  readonly sync: RunSync;
  runsRows(): readonly NodeModel[];
  needsYouRows(): readonly NodeModel[];
  status(): StatusModel;
  readonly queue: PromptQueue;
  readonly reviews: Reviews;
  readonly graph: TaskGraph;
  readonly transcripts: TranscriptProvider;
  readonly comments: ReviewComments;
  /** The buttons of each open prompt's notification, by prompt id (the suite reads it). */
  readonly notified: ReadonlyMap<string, readonly string[]>;
  /** Replace the UI commands use (the suite answers it); undefined restores VS Code's. */
  setUi(ui: Ui | undefined): void;
}

function settings(): BosunSettings {
  const config = vscode.workspace.getConfiguration('bosun');
  return readSettings((key) => config.get(key));
}

/**
 * A notification with the prompt's answers as buttons (the agent's suggested answers
 * first); answering works from any client. Returns the buttons' titles.
 */
function announce(prompt: HumanPrompt, title: string, onAnswer: (answer: PromptAnswer) => void): string[] {
  // Items, not strings: a suggested answer may read like an action's button.
  const buttons: (vscode.MessageItem & { answer?: PromptAnswer })[] = promptAnswers(prompt).map((a) => ({ title: a.short, answer: a }));
  buttons.push({ title: 'Show' });
  void vscode.window.showWarningMessage(`Bosun: "${title}" needs you: ${headline(prompt.reason)}`, ...buttons).then((picked) => {
    if (picked?.answer) onAnswer(picked.answer);
    else if (picked) void vscode.commands.executeCommand('bosun.needsYou.focus');
  });
  return buttons.map((b) => b.title);
}

export function activate(context: vscode.ExtensionContext): BosunApi {
  const output = vscode.window.createOutputChannel('Bosun');
  const keys = new ApiKeys(context.secrets, context.globalState);
  const cache = new RunCache();
  const declared = (context.extension.packageJSON as { version?: unknown }).version;
  const version = typeof declared === 'string' ? declared : '0.0.0';
  const daemon = new Daemon({ output, clientVersion: version, settings, apiKeys: () => keys.all() });
  const sync = new RunSync((method, params) => daemon.request(method, params), cache, (m) => {
    output.appendLine(`[bosun] ${m}`);
  });
  const transcripts = new TranscriptProvider(daemon, cache);
  const queue = new PromptQueue();
  const notified = new Map<string, string[]>();
  const reviews = new Reviews(daemon);
  const comments = new ReviewComments(reviews);
  const graph = new TaskGraph(cache, daemon, (taskId) => {
    void vscode.commands.executeCommand('bosun.showTranscript', { taskId });
  });
  let ui: Ui = windowUi;
  const deps = { daemon, cache, sync, keys, output, queue, reviews, graph, settings, ui: () => ui };

  daemon.onNotification('bosun/runChanged', (n) => {
    sync.onRunChanged(n);
  });
  daemon.onNotification('bosun/taskChanged', (n) => {
    sync.onTaskChanged(n);
    transcripts.taskChanged(n.task.id);
  });
  daemon.onNotification('bosun/humanPrompt', (n) => {
    if (n.task) sync.onTaskChanged({ seq: n.seq, task: n.task });
    if (!queue.add(n.prompt)) return;
    const title = n.task?.title ?? `run #${String(n.prompt.runId)}`;
    const shown = announce(n.prompt, title, (a) => {
      void answer(deps, { promptId: n.prompt.promptId, ...(n.prompt.taskId ? { taskId: n.prompt.taskId } : {}) }, a.action, title, a.choice);
    });
    notified.set(n.prompt.promptId, shown);
  });
  daemon.onNotification('bosun/promptResolved', (n) => {
    notified.delete(n.promptId);
    queue.resolved(n);
  });
  daemon.onNotification('bosun/transcriptDelta', (n) => {
    transcripts.onDelta(n);
  });
  daemon.onNotification('bosun/event', (n) => {
    sync.onEvent(n);
  });

  const tasksOf = (id: number): Task[] => cache.tasksOf(id);
  // Runs still going on open expanded; finished ones stay folded.
  const expanded = (n: NodeModel): boolean => {
    const run = cache.run(n.runId);
    return n.kind !== 'run' || (run !== undefined && !isRunFinished(run));
  };
  const runs = new NodeTree(() => runsTree(cache.allRuns(), tasksOf), expanded);
  const needsYou = new NodeTree(() => needsYouTree(queue.all(), cache.allRuns(), tasksOf), () => false);
  const runsView = vscode.window.createTreeView('bosun.runs', { treeDataProvider: runs, showCollapseAll: true });
  const needsYouView = vscode.window.createTreeView('bosun.needsYou', { treeDataProvider: needsYou });
  const status = new StatusBar(daemon, cache);

  const redraw = (): void => {
    runs.refresh();
    needsYou.refresh();
    const waiting = needsYou.rows().length;
    needsYouView.badge = waiting ? { value: waiting, tooltip: `${waiting} task${waiting === 1 ? '' : 's'} waiting for you` } : undefined;
    status.update();
  };
  cache.onChange(redraw);
  cache.onChange(() => {
    graph.refresh();
  });
  queue.onChange(redraw);

  daemon.onDidChangeState((state) => {
    status.update();
    if (state !== 'connected') return;
    // A (re)connection may be to a daemon that restarted: redraw everything from it.
    transcripts.reconnected();
    void (async () => {
      try {
        const s = await daemon.request('bosun/status', {});
        const problem = protocolProblem(PROTOCOL_VERSION, s.protocolVersion);
        if (problem) void vscode.window.showErrorMessage(`Bosun: ${problem}`);
      } catch (err) {
        output.appendLine(`[bosun] status: ${String(err)}`);
      }
      await sync.reload();
      try {
        const mark = queue.mark();
        queue.replace((await daemon.request('bosun/humanQueue', {})).prompts, mark);
      } catch (err) {
        output.appendLine(`[bosun] ${describeError('bosun/humanQueue', err)}`);
      }
    })();
  });
  daemon.onDidChangeState((state) => {
    if (state !== 'failed') return;
    void vscode.window.showErrorMessage(`Bosun: ${daemon.problem ?? 'the daemon failed'}`, 'Open Settings', 'Open Log', 'Retry').then((action) => {
      if (action === 'Open Settings') void vscode.commands.executeCommand('workbench.action.openSettings', 'bosun.command');
      else if (action === 'Open Log') output.show(true);
      else if (action === 'Retry') void daemon.restart();
    });
  });

  context.subscriptions.push(
    output,
    daemon,
    runs,
    needsYou,
    runsView,
    needsYouView,
    status,
    transcripts,
    graph,
    vscode.workspace.registerTextDocumentContentProvider(TRANSCRIPT_SCHEME, transcripts),
    vscode.commands.registerCommand('bosun.showTranscript', async (target?: { taskId?: number }) => {
      const taskId = target?.taskId;
      if (taskId === undefined) {
        void vscode.window.showInformationMessage('Bosun: choose a task in the Runs view to show its transcript.');
        return;
      }
      const doc = await vscode.workspace.openTextDocument(transcriptUri(taskId));
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
    ...registerCommands(deps),
    ...registerPlanCommands(deps),
    ...reviews.register(() => vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath),
    ...comments.register(),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('bosun')) return;
      if (RESTART_KEYS.some((k) => e.affectsConfiguration(k))) void daemon.restart();
      else daemon.notifySettings(settings());
    }),
  );

  if (vscode.workspace.workspaceFolders?.length) void daemon.start();
  else output.appendLine('[bosun] no folder is open; the daemon starts when one is');
  context.subscriptions.push(
    vscode.workspace.onDidChangeWorkspaceFolders(() => {
      if (vscode.workspace.workspaceFolders?.length && daemon.state !== 'connected') void daemon.start();
    }),
  );

  return {
    daemon,
    cache,
    sync,
    runsRows: () => runs.rows(),
    needsYouRows: () => needsYou.rows(),
    status: () => status.model,
    queue,
    reviews,
    graph,
    transcripts,
    comments,
    notified,
    setUi: (u) => {
      ui = u ?? windowUi;
    },
  };
}

export function deactivate(): void {
  // Disposables registered on the context stop the client.
}
