/**
 * Cases of the in-VS-Code suite about reviewing hunk by hunk, review comments, and the
 * live transcript. Each drives its own run on a scenario of this folder, so they do not
 * depend on the demo's incidental behaviour.
 */

import { join } from 'node:path';

import * as vscode from 'vscode';

import type { BosunApi } from '../../src/extension';
import type { Run, RunOptions, Task } from '../../src/protocol';
import { assert, bosun, eventually, exec, promptOf, test, until } from './suite';

/** Create a run whose model is the scripted scenario `file` of test/e2e/. */
export async function scenarioRun(objective: string, file: string, options: RunOptions = {}): Promise<Run> {
  const ext = vscode.extensions.getExtension<BosunApi>('bosun.bosun');
  assert(ext, 'extension not found');
  const model = `scripted:${join(ext.extensionPath, 'test', 'e2e', file)}`;
  const { run } = await bosun().daemon.request('bosun/createRun', { objective, options: { ...options, model } });
  return run;
}

/** The run's task awaiting review, once there is one. */
async function taskInReview(run: Run): Promise<Task> {
  const b = bosun();
  const find = (): Task | undefined => b.cache.tasksOf(run.id).find((t) => t.state === 'awaiting_review');
  await until(`a task of run #${String(run.id)} awaiting review`, () => find() !== undefined, 45_000);
  const task = find();
  assert(task, 'the task left review');
  return task;
}

/** Open the task's review and return the head side of NOTES.md, the file it changed. */
async function openReview(taskId: number): Promise<vscode.TextDocument> {
  await vscode.commands.executeCommand('bosun.reviewTask', { taskId });
  const head = vscode.window.activeTextEditor?.document;
  assert(head?.uri.scheme === 'bosun-git' && head.uri.path === '/NOTES.md', `active editor is ${String(head?.uri.toString())}`);
  return head;
}

/** The lenses VS Code shows on a document, as the editor would run them. */
async function lenses(uri: vscode.Uri): Promise<vscode.CodeLens[]> {
  const all = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
  return all.sort((a, b) => a.range.start.line - b.range.start.line);
}

/** Run a lens's command exactly as clicking it does. */
function click(lens: vscode.CodeLens | undefined): Thenable<unknown> {
  assert(lens?.command, 'no such lens');
  return vscode.commands.executeCommand(lens.command.command, ...((lens.command.arguments ?? []) as unknown[]));
}

/** Resolve when the document's text satisfies `check` (on every change), or fail after `ms`. */
function textUntil(doc: vscode.TextDocument, what: string, check: (text: string) => boolean, ms = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      clearTimeout(timer);
      sub.dispose();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => {
      done(new Error(`timed out after ${String(ms)} ms waiting for ${what}; the document has:\n${doc.getText().slice(-1500)}`));
    }, ms);
    const sub = vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document.uri.toString() === doc.uri.toString() && check(e.document.getText())) done();
    });
    if (check(doc.getText())) done();
  });
}

const folder = (): string => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';

/** Register the cases (called where they belong in the suite's order). */
export function reviewCases(): void {
  test('approving one hunk and rejecting the other from their lenses merges exactly the approved hunk', async () => {
    const b = bosun();
    const run = await scenarioRun('Edit the notes in two places', 'two-hunks.toml', { reviewGate: true });
    const task = await taskInReview(run);
    const head = await openReview(task.id);
    const review = b.reviews.state(task.id);
    assert(review?.file('NOTES.md')?.hunks?.length === 2, `hunks: ${JSON.stringify(review?.file('NOTES.md')?.hunks?.map((h) => h.header))}`);
    const before = await lenses(head.uri);
    await click(before.filter((l) => l.command?.title === 'Approve hunk')[0]);
    await click(before.filter((l) => l.command?.title === 'Reject hunk')[1]);
    const submit = (await lenses(head.uri)).find((l) => l.command?.title.includes('Submit review'));
    assert(submit?.command?.title.includes('(1 approved, 1 rejected, 0 undecided)'), `lens: ${String(submit?.command?.title)}`);
    const sent = await click(submit);
    assert(sent === true, 'the daemon refused the review');
    await until('the task to be complete', () => b.cache.task(task.id)?.state === 'complete');
    const { run: after } = await b.daemon.request('bosun/getRun', { runId: run.id });
    assert(after.runBranch, 'the run has no branch');
    const base = await exec('git', ['show', `${String(after.baseCommit)}:NOTES.md`], folder());
    const merged = await exec('git', ['show', `${after.runBranch}:NOTES.md`], folder());
    const want = base.replace('Line 2 of the notes.\n', 'Line 2 of the notes, EDITED AT THE TOP.\n');
    assert(want !== base && merged === want, `the run branch has:\n${merged}`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('a comment on a diff line and Request changes send the task back with the comment', async () => {
    const b = bosun();
    const run = await scenarioRun('Edit the notes again', 'two-hunks.toml', { reviewGate: true });
    const task = await taskInReview(run);
    const head = await openReview(task.id);
    const line = head.getText().split('\n').findIndex((l) => l.includes('EDITED AT THE BOTTOM')) + 1;
    assert(line > 0, 'the bottom edit is not on the head side');
    // What the gutter's + and the reply box's "Add Comment" do.
    const thread = b.comments.thread(head.uri, line);
    const body = 'Keep line 19 as it was, please';
    const added = await vscode.commands.executeCommand<boolean>('bosun.review.addComment', { thread, text: body });
    assert(added && thread.comments.length === 1, 'the comment was not kept');
    const lens = (await lenses(head.uri)).find((l) => l.command?.command === 'bosun.review.requestChanges');
    assert(lens?.command?.title === 'Request changes (1 comments)', `lens: ${String(lens?.command?.title)}`);
    // The thread's title-bar action.
    const sent = await vscode.commands.executeCommand<boolean>('bosun.review.requestChanges', thread);
    assert(sent, 'the daemon refused the request for changes');
    await until('the task to start its next attempt', () => (b.cache.task(task.id)?.attempt ?? 0) >= 2, 45_000);
    const expected = `NOTES.md:${String(line)}: ${body}`;
    await eventually('the next attempt to be told the comment', async () => {
      const page = await b.daemon.request('bosun/transcript', { taskId: task.id, attempt: 2, limit: 20 });
      return page.messages.some((m) => m.role === 'user' && (m.content ?? '').includes(expected));
    });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  test('the transcript view fills from live deltas while an attempt runs', async () => {
    const b = bosun();
    const run = await scenarioRun('Look for a changelog', 'live-transcript.toml');
    const first = await promptOf(run.id, 'tool_approval');
    assert(first.taskId, 'no task behind the approval');
    const taskId = first.taskId;
    await vscode.commands.executeCommand('bosun.showTranscript', { taskId });
    const doc = vscode.window.activeTextEditor?.document;
    assert(doc?.uri.scheme === 'bosun-transcript', `active editor is ${String(doc?.uri.toString())}`);
    assert(doc.getText().includes('FIRST TURN') && !doc.getText().includes('SECOND TURN'), `on open:\n${doc.getText().slice(-800)}`);
    const fetches = b.transcripts.fetches;
    const applied = b.transcripts.applied;
    await b.daemon.request('bosun/resolveTask', { promptId: first.promptId, action: 'approve' });
    // The attempt streams its second turn, then waits on its second approval: still running.
    await textUntil(doc, 'the second turn to be drawn', (t) => t.includes('SECOND TURN'));
    assert(b.transcripts.fetches === fetches, `refetched ${String(b.transcripts.fetches - fetches)} times instead of drawing deltas`);
    assert(b.transcripts.applied > applied, 'no delta was merged');
    assert(b.cache.task(taskId)?.state === 'active', `task is ${String(b.cache.task(taskId)?.state)}`);
    const second = await promptOf(run.id, 'tool_approval', first);
    await b.daemon.request('bosun/resolveTask', { promptId: second.promptId, action: 'approve' });
    await until('the task to be complete', () => b.cache.task(taskId)?.state === 'complete', 45_000);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });
}
