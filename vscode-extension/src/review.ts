/** Review before merge: diffs base ↔ task head from git objects, a CodeLens per hunk, the decision. */

import { execFile } from 'node:child_process';

import * as vscode from 'vscode';

import type { Daemon } from './daemon';
import { describeError } from './logic/errors';
import { editorLine, gitLine, hasLoneCr, hunkAnchors } from './logic/hunks';
import { ReviewState, type HunkVerdict } from './logic/review';
import type { FileDiff, ReviewTaskParams } from './protocol';

export const GIT_SCHEME = 'bosun-git';
const SHA = /^[0-9a-f]{7,64}$/;
const MAX_BLOB = 32 * 1024 * 1024;

/** `bosun-git:/<path>?commit=<sha>&task=<id>&side=base|head`: a file as of a commit. */
export function gitUri(path: string, commit: string, taskId: number, side: 'base' | 'head'): vscode.Uri {
  return vscode.Uri.from({ scheme: GIT_SCHEME, path: `/${path}`, query: new URLSearchParams({ commit, task: String(taskId), side }).toString() });
}

/** The file, commit, task and side a `bosun-git:` URI names. */
export function parseGitUri(uri: vscode.Uri): { path: string; commit: string; taskId: number; side: string } {
  const q = new URLSearchParams(uri.query);
  return { path: uri.path.replace(/^\//, ''), commit: q.get('commit') ?? '', taskId: Number(q.get('task')), side: q.get('side') ?? '' };
}

/** Serves file contents straight from git objects: nothing is written into the user's tree. */
export class GitObjects implements vscode.TextDocumentContentProvider {
  /** The texts served that hold a lone CR (rare), by URI: their line numbers need mapping. */
  private readonly loneCr = new Map<string, string>();

  constructor(private readonly repo: () => string | undefined) {}

  provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { path, commit } = parseGitUri(uri);
    const cwd = this.repo();
    // A file absent on one side (added or deleted) is empty there.
    if (!cwd || !SHA.test(commit) || !path || path.startsWith('-')) return Promise.resolve('');
    return new Promise((resolve) => {
      execFile('git', ['show', `${commit}:${path}`], { cwd, maxBuffer: MAX_BLOB, encoding: 'utf8' }, (err, stdout) => {
        const text = err ? '' : stdout;
        if (hasLoneCr(text)) this.loneCr.set(uri.toString(), text);
        else this.loneCr.delete(uri.toString());
        resolve(text);
      });
    });
  }

  /** The text served for `uri` when it holds a lone CR, else undefined (lines map 1:1). */
  rawText(uri: vscode.Uri): string | undefined {
    return this.loneCr.get(uri.toString());
  }
}

/** Open reviews by task, their CodeLenses, and the commands that act on them. */
export class Reviews implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly open = new Map<number, ReviewState>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly ended = new vscode.EventEmitter<number>();
  /** A review was sent, or replaced by a fresh one: its task id (its comment threads go away). */
  readonly onDidEnd = this.ended.event;

  private objects: GitObjects | undefined;

  constructor(private readonly daemon: Daemon) {}

  /** The 0-based line as git counts it (hunks, comments) of editor line `line` of a review document. */
  gitLineOf(uri: vscode.Uri, line: number): number {
    const raw = this.objects?.rawText(uri);
    return raw === undefined ? line : gitLine(raw, line);
  }

  /** The review of a task, if one is open (the suite reads it). */
  state(taskId: number): ReviewState | undefined {
    return this.open.get(taskId);
  }

  /** Fetch the task's diff and open its first file (or the one named). */
  async start(taskId: number, title: string): Promise<ReviewState | undefined> {
    let state: ReviewState;
    try {
      state = new ReviewState(await this.daemon.request('bosun/taskDiff', { taskId }));
    } catch (err) {
      void vscode.window.showErrorMessage(`Bosun: ${describeError('bosun/taskDiff', err)}`);
      return undefined;
    }
    // Comments belong to the review they were written in; a fresh diff starts without them.
    if (this.open.has(taskId)) this.ended.fire(taskId);
    this.open.set(taskId, state);
    this.changed.fire();
    const first = state.diff.files.find((f) => !f.binary);
    if (!first) {
      void vscode.window.showInformationMessage(`Bosun: "${title}" changed ${state.diff.files.length ? 'only binary files' : 'nothing'}.`);
      return state;
    }
    await this.showFile(state, first);
    return state;
  }

  /** Open one file of a review as a diff. */
  async showFile(state: ReviewState, file: FileDiff): Promise<void> {
    const { taskId, baseCommit, headCommit } = state.diff;
    await vscode.commands.executeCommand(
      'vscode.diff',
      gitUri(file.path, baseCommit, taskId, 'base'),
      gitUri(file.path, headCommit, taskId, 'head'),
      `${file.path} (task #${String(taskId)}, ${file.status})`,
      { preview: false },
    );
  }

  /** Pick another file of the review to open. */
  async pickFile(taskId: number): Promise<void> {
    const state = this.open.get(taskId);
    if (!state) return;
    const items = state.diff.files.map((f) => ({ label: f.path, description: `${f.status}${f.binary ? ', binary' : ''} · ${String(f.hunks?.length ?? 0)} hunks`, file: f }));
    const pick = await vscode.window.showQuickPick(items, { title: `Files of task #${String(taskId)}` });
    if (pick && !pick.file.binary) await this.showFile(state, pick.file);
  }

  /** Record a verdict on a hunk and redraw the lenses. */
  decide(taskId: number, hunkId: string, verdict: HunkVerdict | undefined): void {
    this.open.get(taskId)?.decide(hunkId, verdict);
    this.changed.fire();
  }

  /** Approve every hunk of the review. */
  approveAll(taskId: number): void {
    this.open.get(taskId)?.approveAll();
    this.changed.fire();
  }

  /** Send the comments written on the diff's lines as "request changes"; true when taken. */
  async requestChanges(taskId: number): Promise<boolean> {
    const state = this.open.get(taskId);
    if (!state) return false;
    const made = state.requestChanges();
    if ('problem' in made) {
      void vscode.window.showInformationMessage(`Bosun: ${made.problem}`);
      return false;
    }
    return this.send(taskId, made.decision);
  }

  /** Send the decision the verdicts make; true when the daemon took it. */
  async submit(taskId: number): Promise<boolean> {
    const state = this.open.get(taskId);
    if (!state) return false;
    const made = state.decision();
    if ('problem' in made) {
      void vscode.window.showWarningMessage(`Bosun: ${made.problem}`);
      return false;
    }
    return this.send(taskId, made.decision);
  }

  /** Redraw the lenses (a comment was added or removed). */
  refresh(): void {
    this.changed.fire();
  }

  private async send(taskId: number, decision: ReviewTaskParams['decision']): Promise<boolean> {
    try {
      const result = await this.daemon.request('bosun/reviewTask', { taskId, decision });
      this.open.delete(taskId);
      this.changed.fire();
      this.ended.fire(taskId);
      const merged = result.approvedHunks?.length;
      void vscode.window.showInformationMessage(
        `Bosun: review of "${result.task.title}" sent (${decision.kind ?? 'decision'}${merged ? `, ${String(merged)} hunks merged` : ''}).`,
      );
      return true;
    } catch (err) {
      void vscode.window.showErrorMessage(`Bosun: ${describeError('bosun/reviewTask', err)}`);
      return false;
    }
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (document.uri.scheme !== GIT_SCHEME) return [];
    const { path, taskId, side } = parseGitUri(document.uri);
    const state = this.open.get(taskId);
    const file = state?.file(path);
    if (!state || !file || side !== 'head') return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const t = state.tally();
    const lenses = [
      new vscode.CodeLens(top, { title: `$(check-all) Submit review (${String(t.approved)} approved, ${String(t.rejected)} rejected, ${String(t.undecided)} undecided)`, command: 'bosun.review.submit', arguments: [taskId] }),
      new vscode.CodeLens(top, { title: 'Approve all', command: 'bosun.review.approveAll', arguments: [taskId] }),
      new vscode.CodeLens(top, { title: `Request changes (${String(state.comments().length)} comments)`, command: 'bosun.review.requestChanges', arguments: [taskId] }),
      new vscode.CodeLens(top, { title: `Files (${String(state.diff.files.length)})…`, command: 'bosun.review.files', arguments: [taskId] }),
    ];
    const hunks = file.hunks ?? [];
    // Hunks count lines as git does; the editor also breaks at a lone CR.
    const raw = this.objects?.rawText(document.uri);
    hunkAnchors(hunks).forEach((anchor, i) => {
      const hunk = hunks[i];
      if (!hunk) return;
      const line = raw === undefined ? anchor : editorLine(raw, anchor);
      const at = new vscode.Range(Math.min(line, Math.max(document.lineCount - 1, 0)), 0, Math.min(line, Math.max(document.lineCount - 1, 0)), 0);
      const verdict = state.verdict(hunk.id);
      const mark = verdict === 'approve' ? '$(pass-filled) approved' : verdict === 'reject' ? '$(error) rejected' : '$(circle-outline) undecided';
      lenses.push(
        new vscode.CodeLens(at, { title: mark, command: 'bosun.review.decide', arguments: [taskId, hunk.id, undefined] }),
        new vscode.CodeLens(at, { title: 'Approve hunk', command: 'bosun.review.decide', arguments: [taskId, hunk.id, 'approve'] }),
        new vscode.CodeLens(at, { title: 'Reject hunk', command: 'bosun.review.decide', arguments: [taskId, hunk.id, 'reject'] }),
      );
    });
    return lenses;
  }

  /** Register the provider and the review commands. */
  register(repo: () => string | undefined): vscode.Disposable[] {
    return [
      new vscode.Disposable(() => {
        this.dispose();
      }),
      vscode.workspace.registerTextDocumentContentProvider(GIT_SCHEME, (this.objects = new GitObjects(repo))),
      vscode.languages.registerCodeLensProvider({ scheme: GIT_SCHEME }, this),
      vscode.commands.registerCommand('bosun.review.decide', (taskId: number, hunkId: string, verdict?: HunkVerdict) => {
        this.decide(taskId, hunkId, verdict);
      }),
      vscode.commands.registerCommand('bosun.review.approveAll', (taskId: number) => {
        this.approveAll(taskId);
      }),
      vscode.commands.registerCommand('bosun.review.submit', (taskId: number) => this.submit(taskId)),
      vscode.commands.registerCommand('bosun.review.files', (taskId: number) => this.pickFile(taskId)),
    ];
  }

  dispose(): void {
    this.changed.dispose();
    this.ended.dispose();
  }
}
