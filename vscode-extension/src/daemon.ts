/** The connection to `bosun lsp`: start, stop, restart, typed requests with time limits. */

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';

import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  State,
  type CloseHandlerResult,
  type ErrorHandlerResult,
  type DynamicFeature,
  type LanguageClientOptions,
  type StaticFeature,
} from 'vscode-languageclient/node';

import { RequestTimeoutError, withDeadline } from './logic/deadline';
import { resolveLaunch, type Launch } from './logic/launch';
import { initializationOptions, type BosunSettings, daemonSettings } from './logic/settings';
import type { ConnectionState } from './logic/status';
import { PROTOCOL_VERSION, type BosunNotifications, type BosunRequests } from './protocol';

const STDERR_TAIL = 20;
// More crashes than this within the window and the client stops restarting the daemon.
const MAX_RESTARTS = 4;
const RESTART_WINDOW_MS = 3 * 60_000;

/** What the connection needs from the rest of the extension. */
export interface DaemonHost {
  readonly output: vscode.OutputChannel;
  readonly clientVersion: string;
  settings(): BosunSettings;
  apiKeys(): Promise<Record<string, string>>;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/**
 * A language client without the executeCommand feature: the daemon advertises its
 * `bosun.*` commands for plain LSP editors, and registering them here would clash with
 * this extension's own commands of the same names (it sends bosun/* requests instead).
 */
class BosunLanguageClient extends LanguageClient {
  override registerFeature(feature: StaticFeature | DynamicFeature<unknown>): void {
    if ('registrationType' in feature && feature.registrationType.method === 'workspace/executeCommand') return;
    super.registerFeature(feature);
  }
}

/** One daemon connection; `restart()` replaces it, keeping listeners. */
export class Daemon implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private stopping = false;
  private restarts: number[] = [];
  private readonly stderrTail: string[] = [];
  private readonly stateEmitter = new vscode.EventEmitter<ConnectionState>();
  private readonly handlers = new Map<string, (params: unknown) => void>();
  private current: ConnectionState = 'disconnected';
  private lastProblem: string | undefined;
  /** Settles when the last spawned process has exited and its stderr is fully read. */
  private childClosed: Promise<void> = Promise.resolve();

  /** Fires on every connection state change. */
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(private readonly host: DaemonHost) {}

  /** The connection state. */
  get state(): ConnectionState {
    return this.current;
  }

  /** Why the daemon is not connected, when known. */
  get problem(): string | undefined {
    return this.lastProblem;
  }

  /** Register a handler for a daemon notification (kept across restarts). */
  onNotification<M extends keyof BosunNotifications>(method: M, handler: (params: BosunNotifications[M]) => void): void {
    this.handlers.set(method, handler as (params: unknown) => void);
  }

  /** Start the daemon unless it is running or starting; resolves when connected. */
  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  /** Stop the current daemon connection (the workspace daemon itself keeps running). */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    this.stopping = true;
    try {
      await withDeadline(client.stop(2000), 5000, () => new Error('stop timed out'));
    } catch (err) {
      this.host.output.appendLine(`[bosun] stopping the client: ${String(err)}`);
    } finally {
      this.stopping = false;
      this.setState('disconnected');
    }
  }

  /** Stop and start again (settings that name the executable changed, or by command). */
  async restart(): Promise<void> {
    await this.starting?.catch(() => undefined);
    await this.stop();
    this.restarts = [];
    await this.start();
  }

  /** Send new settings to a running daemon. */
  notifySettings(settings: BosunSettings): void {
    if (!this.client?.isRunning()) return;
    void this.client.sendNotification('workspace/didChangeConfiguration', { settings: daemonSettings(settings) });
  }

  /** A typed request with the configured time limit. */
  request<M extends keyof BosunRequests>(method: M, params: BosunRequests[M]['params']): Promise<BosunRequests[M]['result']> {
    return this.requestUntyped(method, params) as Promise<BosunRequests[M]['result']>;
  }

  /** A request to a method this client's generated types do not list yet. */
  async requestUntyped(method: string, params: object): Promise<unknown> {
    const seconds = this.host.settings().requestTimeoutSeconds;
    const deadline = (): RequestTimeoutError => new RequestTimeoutError(method, seconds);
    if (!this.client?.isRunning()) await withDeadline(this.start(), seconds * 1000, deadline);
    const client = this.client;
    if (!client?.isRunning()) throw new Error(this.lastProblem ?? 'The bosun daemon is not running; see Bosun: Open Daemon Log.');
    const cancel = new vscode.CancellationTokenSource();
    try {
      // Cancelling the token sends $/cancelRequest, so the daemon stops working on it too.
      return await withDeadline(client.sendRequest(method, params, cancel.token), seconds * 1000, deadline, () => {
        cancel.cancel();
      });
    } finally {
      cancel.dispose();
    }
  }

  /** The last lines the daemon wrote to stderr. */
  stderr(): string {
    return this.stderrTail.join('\n');
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
  }

  private setState(state: ConnectionState, problem?: string): void {
    this.lastProblem = state === 'connected' ? undefined : (problem ?? this.lastProblem);
    if (state === this.current && problem === undefined) return;
    this.current = state;
    this.stateEmitter.fire(state);
  }

  private launch(): Launch {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    return resolveLaunch(this.host.settings(), { workspaceFolders: folders, pathEnv: process.env.PATH ?? '', isExecutable });
  }

  private async doStart(): Promise<void> {
    if (this.client?.isRunning()) return;
    const launch = this.launch();
    if (!launch.ok) {
      this.fail(`${launch.message} ${launch.fix}`);
      return;
    }
    this.setState('starting');
    this.host.output.appendLine(`[bosun] starting ${launch.command} ${launch.args.join(' ')}`);
    const options = initializationOptions(this.host.settings(), await this.host.apiKeys(), PROTOCOL_VERSION, this.host.clientVersion);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.host.output,
      initializationOptions: options,
      initializationFailedHandler: (err: unknown) => {
        this.host.output.appendLine(`[bosun] initialize failed: ${String(err)}`);
        return false;
      },
      errorHandler: {
        error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
        closed: (): CloseHandlerResult => this.onClosed(),
      },
    };
    const client = new BosunLanguageClient('bosun', 'Bosun', () => this.spawnDaemon(launch), clientOptions);
    // The status bar and tree already show run progress; the daemon's work-done progress
    // (meant for plain LSP editors) would show it twice.
    client.registerFeature({
      fillClientCapabilities: (capabilities) => {
        if (capabilities.window) capabilities.window.workDoneProgress = false;
      },
      initialize: () => undefined,
      getState: () => ({ kind: 'static' }),
      clear: () => undefined,
    });
    for (const [method, handler] of this.handlers) client.onNotification(method, handler);
    client.onDidChangeState((e) => {
      if (this.client !== client) return;
      if (e.newState === State.Running) this.setState('connected');
      else if (e.newState === State.Starting) this.setState('starting');
    });
    this.client = client;
    const seconds = this.host.settings().requestTimeoutSeconds;
    try {
      await withDeadline(client.start(), seconds * 1000, () => new Error(`${launch.command} did not answer initialize within ${seconds} s`));
    } catch (err) {
      if (this.client === client) this.client = undefined;
      void client.stop(1000).catch(() => undefined);
      // A daemon that died says why on stderr; wait (briefly) until all of it is read.
      await withDeadline(this.childClosed, 2000, () => new Error('still running')).catch(() => undefined);
      const tail = this.stderrTail.slice(-3).join(' | ');
      this.fail(`The bosun daemon did not start: ${err instanceof Error ? err.message : String(err)}${tail ? ` (stderr: ${tail})` : ''}`);
    }
  }

  private fail(problem: string): void {
    this.host.output.appendLine(`[bosun] ${problem}`);
    this.setState('failed', problem);
  }

  private onClosed(): CloseHandlerResult {
    if (this.stopping) return { action: CloseAction.DoNotRestart, handled: true };
    const now = Date.now();
    this.restarts = [...this.restarts.filter((t) => now - t < RESTART_WINDOW_MS), now];
    if (this.restarts.length <= MAX_RESTARTS) {
      this.host.output.appendLine('[bosun] the daemon connection closed; reconnecting');
      this.setState('starting', 'the daemon connection closed; reconnecting');
      return { action: CloseAction.Restart, handled: true };
    }
    const tail = this.stderrTail.slice(-3).join(' | ');
    this.fail(`The bosun daemon stopped ${this.restarts.length} times in 3 minutes; not restarting it.${tail ? ` Last stderr: ${tail}` : ''}`);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private spawnDaemon(launch: Extract<Launch, { ok: true }>): Promise<ChildProcess> {
    return new Promise((resolve, reject) => {
      const child = spawn(launch.command, [...launch.args], { cwd: launch.cwd, env: process.env, stdio: 'pipe' });
      this.childClosed = new Promise((closed) => {
        child.once('close', () => {
          closed();
        });
      });
      child.once('error', (err) => {
        reject(new Error(`cannot run ${launch.command}: ${err.message}`));
      });
      child.once('spawn', () => {
        resolve(child);
      });
      child.stderr.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line.trim()) continue;
          this.stderrTail.push(line);
          if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
        }
      });
      child.once('exit', (code, signal) => {
        this.host.output.appendLine(`[bosun] daemon process exited (${signal ?? `code ${String(code)}`})`);
      });
    });
  }
}
