/** Entry point: wires the daemon connection, the cache, views, status bar and commands. */

import * as vscode from 'vscode';

import { ApiKeys } from './apiKeys';
import { registerCommands, windowPrompts, type Prompts } from './commands';
import { Daemon } from './daemon';
import { protocolProblem } from './logic/errors';
import { RunCache } from './logic/runCache';
import { needsYouTree, runsTree, type NodeModel } from './logic/runTree';
import { RESTART_KEYS, readSettings, type BosunSettings } from './logic/settings';
import { isRunFinished, taskState } from './logic/stateStyle';
import type { StatusModel } from './logic/status';
import { RunSync } from './logic/sync';
import { PROTOCOL_VERSION, type Task } from './protocol';
import { StatusBar } from './statusBar';
import { TRANSCRIPT_SCHEME, TranscriptProvider, transcriptUri } from './transcript';
import { NodeTree } from './views';

/** What `activate` returns: for the end-to-end suite and other extensions. */
export interface BosunApi {
  readonly daemon: Daemon;
  readonly cache: RunCache;
  readonly sync: RunSync;
  runsRows(): readonly NodeModel[];
  needsYouRows(): readonly NodeModel[];
  status(): StatusModel;
  /** Replace the prompts commands show (the suite answers them); undefined restores. */
  setPrompts(prompts: Prompts | undefined): void;
}

function settings(): BosunSettings {
  const config = vscode.workspace.getConfiguration('bosun');
  return readSettings((key) => config.get(key));
}

function announceWaiting(task: Task): void {
  const why = task.reason ? `: ${task.reason}` : '';
  void vscode.window.showWarningMessage(`Bosun: "${task.title}" needs you${why}`, 'Resolve…', 'Show').then((action) => {
    if (action === 'Resolve…') void vscode.commands.executeCommand('bosun.resolveTask', { taskId: task.id });
    else if (action === 'Show') void vscode.commands.executeCommand('bosun.needsYou.focus');
  });
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
  let prompts: Prompts = windowPrompts;

  daemon.onNotification('bosun/runChanged', (n) => {
    sync.onRunChanged(n);
  });
  daemon.onNotification('bosun/taskChanged', (n) => {
    const before = cache.task(n.task.id);
    sync.onTaskChanged(n);
    transcripts.taskChanged(n.task.id);
    if (taskState(n.task) === 'waiting_human' && (!before || taskState(before) !== 'waiting_human')) announceWaiting(n.task);
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
  const needsYou = new NodeTree(() => needsYouTree(cache.allRuns(), tasksOf), () => false);
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

  daemon.onDidChangeState((state) => {
    status.update();
    if (state !== 'connected') return;
    // A (re)connection may be to a daemon that restarted: redraw everything from it.
    void (async () => {
      try {
        const s = await daemon.request('bosun/status', {});
        const problem = protocolProblem(PROTOCOL_VERSION, s.protocolVersion);
        if (problem) void vscode.window.showErrorMessage(`Bosun: ${problem}`);
      } catch (err) {
        output.appendLine(`[bosun] status: ${String(err)}`);
      }
      await sync.reload();
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
    ...registerCommands({ daemon, cache, sync, keys, output, settings, prompts: () => prompts }),
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
    setPrompts: (p) => {
      prompts = p ?? windowPrompts;
    },
  };
}

export function deactivate(): void {
  // Disposables registered on the context stop the client.
}
