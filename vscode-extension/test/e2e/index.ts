/**
 * The suite that runs inside a real VS Code extension host against the real daemon.
 * VS Code loads this module (extensionTestsPath) and awaits `run()`; a rejection makes
 * VS Code exit non-zero. Results also go to $BOSUN_E2E_RESULTS for the runner to print.
 */

import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import * as vscode from 'vscode';

import type { BosunApi } from '../../src/extension';
import type { Run } from '../../src/protocol';
import { planCases } from './planCases';
import { reviewCases, scenarioRun } from './reviewCases';
import { assert, bosun, config, eventually, exec, promptOf, runCases, scripted, setApi, test, until } from './suite';

let created: Run | undefined;
/** A run whose first task asks a human at once (the needs-human scenario). */
let stalled: Run | undefined;

/** Create a run on the needs-human scenario: its task stalls and asks a human. */
async function stalledRun(objective: string): Promise<Run> {
  const ext = vscode.extensions.getExtension<BosunApi>('bosun.bosun');
  assert(ext, 'extension not found');
  const scenario = join(ext.extensionPath, 'test', 'e2e', 'needs-human.toml');
  const { run } = await bosun().daemon.request('bosun/createRun', { objective, options: { model: `scripted:${scenario}`, maxRetries: 0 } });
  return run;
}

test('the extension activates and connects to the daemon', async () => {
  const ext = vscode.extensions.getExtension<BosunApi>('bosun.bosun');
  assert(ext, 'extension bosun.bosun is not installed');
  setApi(await ext.activate());
  await until('the daemon to connect', () => bosun().daemon.state === 'connected');
}, true);

test('the daemon answers bosun/status with a compatible protocol', async () => {
  const status = await bosun().daemon.request('bosun/status', {});
  assert(status.protocolVersion.split('.')[0] === '0', `protocol ${status.protocolVersion}`);
  assert(status.workspace.length > 0, 'status has no workspace');
});

test('the Runs and Needs-you views are contributed', async () => {
  // Focusing a view that does not exist rejects; these must succeed.
  await vscode.commands.executeCommand('bosun.runs.focus');
  await vscode.commands.executeCommand('bosun.needsYou.focus');
});

test('start objective creates a run that appears in the Runs tree', async () => {
  const b = bosun();
  b.setUi(scripted(['Write a CONTRIBUTING guide'], [['Review gate']]));
  try {
    created = await vscode.commands.executeCommand<Run | undefined>('bosun.startObjective');
  } finally {
    b.setUi(undefined);
  }
  assert(created, 'startObjective returned no run');
  assert(created.options?.reviewGate === true, `review gate not passed: ${JSON.stringify(created.options)}`);
  const id = `run:${String(created.id)}`;
  await until(`${id} in the Runs tree`, () => b.runsRows().some((r) => r.id === id));
  const row = b.runsRows().find((r) => r.id === id);
  assert(row?.label === 'Write a CONTRIBUTING guide', `label ${String(row?.label)}`);
  assert(row.contextValue.startsWith('run:'), `context ${row.contextValue}`);
});

test('the Runs tree converges to the daemon board as the run moves', async () => {
  const b = bosun();
  const run = created;
  assert(run, 'no run from an earlier test');
  // The engine moves the run on its own; compare with the daemon after each change seen.
  await eventually('the tree to match bosun/getRun', async () => {
    const board = await b.daemon.request('bosun/getRun', { runId: run.id });
    const row = b.runsRows().find((r) => r.runId === run.id);
    const drawn = new Set(b.cache.tasksOf(run.id).map((t) => `${String(t.id)}:${t.state ?? 'planned'}`));
    const truth = new Set(board.tasks.map((t) => `${String(t.id)}:${t.state ?? 'planned'}`));
    return row?.contextValue === `run:${board.run.state}` && drawn.size === truth.size && [...truth].every((t) => drawn.has(t));
  });
});

test('the status bar shows the new run', async () => {
  const b = bosun();
  const run = created;
  assert(run, 'no run from the previous test');
  await until('the status bar to name the run', () => b.status().text.includes(`#${String(run.id)}`));
});

test('a human prompt shows in Needs you with its answers', async () => {
  const b = bosun();
  const run = await stalledRun('Explain the build in BUILDING.md');
  stalled = run;
  await until('a prompt for the run', () => b.queue.all().some((p) => p.runId === run.id), 45_000);
  const prompt = b.queue.all().find((p) => p.runId === run.id);
  assert(prompt, 'prompt vanished');
  const row = b.needsYouRows().find((r) => r.promptId === prompt.promptId);
  assert(row, `no Needs-you row for prompt ${prompt.promptId}`);
  assert(row.contextValue === `prompt:${prompt.kind}`, `context ${row.contextValue}`);
  assert(prompt.options.includes('abandon'), `options ${prompt.options.join(',')}`);
});

test('the transcript of the waiting task opens with its messages', async () => {
  const b = bosun();
  const prompt = b.queue.all().find((p) => p.runId === stalled?.id);
  assert(prompt?.taskId, 'no waiting task');
  await vscode.commands.executeCommand('bosun.showTranscript', { taskId: prompt.taskId });
  const doc = vscode.window.activeTextEditor?.document;
  assert(doc?.uri.scheme === 'bosun-transcript', `active editor is ${String(doc?.uri.toString())}`);
  const text = doc.getText();
  assert(text.includes('## '), `no messages in the transcript:\n${text.slice(0, 500)}`);
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
});

test('review shows a task awaiting review from git objects, and approving every hunk merges it', async () => {
  const b = bosun();
  const run = created;
  assert(run, 'no run from an earlier test');
  // The run has the review gate on: the demo director's design waits for review.
  const waiting = (): number | undefined => b.cache.tasksOf(run.id).find((t) => t.state === 'awaiting_review')?.id;
  await until('a task awaiting review', () => waiting() !== undefined, 60_000);
  const taskId = waiting();
  assert(taskId !== undefined, 'task left review');
  await vscode.commands.executeCommand('bosun.reviewTask', { taskId });
  const review = b.reviews.state(taskId);
  assert(review && review.diff.files.length > 0, 'no review, or a review of nothing');
  const head = vscode.window.activeTextEditor?.document;
  assert(head?.uri.scheme === 'bosun-git', `active editor is ${String(head?.uri.toString())}`);
  const path = head.uri.path.replace(/^\//, '');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const truth = await exec('git', ['show', `${review.diff.headCommit}:${path}`], folder);
  assert(head.getText() === truth, `head side of ${path} differs from git show`);
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', head.uri);
  const hunks = review.file(path)?.hunks ?? [];
  const approveLenses = lenses.filter((l) => l.command?.title === 'Approve hunk').length;
  assert(hunks.length > 0 && approveLenses === hunks.length, `${String(approveLenses)} lenses for ${String(hunks.length)} hunks`);
  for (const id of review.hunkIds()) await vscode.commands.executeCommand('bosun.review.decide', taskId, id, 'approve');
  assert(review.tally().undecided === 0, `tally ${JSON.stringify(review.tally())}`);
  const sent = await vscode.commands.executeCommand<boolean>('bosun.review.submit', taskId);
  assert(sent, 'the daemon refused the review');
  await until('the task to leave review', () => b.cache.task(taskId)?.state !== 'awaiting_review');
  const { task } = await b.daemon.request('bosun/getTask', { taskId });
  assert(task.state !== 'awaiting_review', `daemon still has it in ${String(task.state)}`);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

reviewCases();
planCases();

/** The node count the graph webview reports for its next drawing. */
function nextDrawing(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error('the graph webview never reported a drawing (blocked script?)'));
    }, 20_000);
    const sub = bosun().graph.onDidRender((count) => {
      clearTimeout(timer);
      sub.dispose();
      resolve(count);
    });
  });
}

test('the task graph draws the run in a webview under its CSP', async () => {
  const b = bosun();
  const run = created;
  assert(run, 'no run from an earlier test');
  const drawn = nextDrawing();
  await vscode.commands.executeCommand('bosun.showGraph', { runId: run.id });
  const count = await drawn;
  const tasks = b.cache.tasksOf(run.id).length;
  assert(tasks > 0 && count === tasks, `drew ${String(count)} nodes for ${String(tasks)} tasks`);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
});

// The README's graph screenshot is of this scenario; this checks the state it waits for.
test('the graph of a planned run draws every task, with finished work complete and one task active', async () => {
  const b = bosun();
  const run = await scenarioRun('Export reports as CSV and JSON, with tests and docs', 'full-graph.toml');
  const count = (state: string): number => b.cache.tasksOf(run.id).filter((t) => (t.state ?? 'planned') === state).length;
  await until(
    `run #${String(run.id)} to have seven tasks, five complete and one active`,
    () => b.cache.tasksOf(run.id).length === 7 && count('complete') === 5 && count('active') === 1,
    45_000,
  );
  try {
    const deps = new Map(b.cache.tasksOf(run.id).map((t) => [t.key, (t.dependencies ?? []).map((id) => b.cache.task(id)?.key).sort()]));
    assert(JSON.stringify(deps.get('tests')) === '["csv","flag","json","plan"]', `tests waits for ${JSON.stringify(deps.get('tests'))}`);
    assert(b.cache.tasksOf(run.id).find((t) => t.key === 'tests')?.state === 'planned', 'tests did not wait for flag');
    const drawn = nextDrawing();
    await vscode.commands.executeCommand('bosun.showGraph', { runId: run.id });
    assert((await drawn) === 7, 'the graph did not draw the seven tasks');
  } finally {
    // `flag` would stay active for ten minutes and hold a worker the later cases share.
    await b.daemon.request('bosun/cancelRun', { runId: run.id });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  }
  await until(`run #${String(run.id)} to be cancelled`, () => b.cache.run(run.id)?.state === 'cancelled');
});

test('answering the prompt from VS Code settles the task everywhere', async () => {
  const b = bosun();
  const prompt = b.queue.all().find((p) => p.runId === stalled?.id);
  assert(prompt?.taskId, 'no prompt to answer');
  const taskId = prompt.taskId;
  b.setUi(scripted([], [['Abandon']]));
  try {
    await vscode.commands.executeCommand('bosun.resolveTask', { promptId: prompt.promptId });
  } finally {
    b.setUi(undefined);
  }
  await until('the prompt to leave Needs you', () => !b.needsYouRows().some((r) => r.promptId === prompt.promptId));
  await until('the task to be abandoned', () => b.cache.task(taskId)?.state === 'abandoned');
  const { task } = await b.daemon.request('bosun/getTask', { taskId });
  assert(task.state === 'abandoned', `daemon says ${String(task.state)}`);
});

test("an agent's suggested answers come first, and picking one lets the task go on", async () => {
  const b = bosun();
  const run = await scenarioRun('Tidy the notes', 'asks-choice.toml');
  const prompt = await promptOf(run.id, 'ask_human');
  assert(prompt.taskId, 'no task behind the question');
  const taskId = prompt.taskId;
  const choices = ['short notes', 'detailed notes'];
  const buttons = b.notified.get(prompt.promptId) ?? [];
  assert(buttons.slice(0, 3).join('|') === [...choices, 'Retry…'].join('|') && buttons.includes('Abandon'), `notification buttons: ${buttons.join(' | ')}`);
  let offered: string[] = [];
  b.setUi({
    ...scripted([], []),
    pickOne: (items) => {
      offered = items.map((i) => i.label);
      return Promise.resolve(items.find((i) => i.label === 'detailed notes'));
    },
  });
  try {
    await vscode.commands.executeCommand('bosun.resolveTask', { promptId: prompt.promptId });
  } finally {
    b.setUi(undefined);
  }
  assert(offered.slice(0, 3).join('|') === [...choices, 'Retry with guidance…'].join('|'), `quick pick: ${offered.join(' | ')}`);
  await until('the question to leave Needs you', () => !b.needsYouRows().some((r) => r.promptId === prompt.promptId));
  await until('the task to finish its second attempt', () => b.cache.task(taskId)?.state === 'complete', 45_000);
  assert(b.cache.task(taskId)?.attempt === 2, `attempt ${String(b.cache.task(taskId)?.attempt)}`);
  const page = await b.daemon.request('bosun/transcript', { taskId, attempt: 2, limit: 20 });
  const brief = page.messages.filter((m) => m.role === 'user').map((m) => m.content ?? '').join('\n');
  assert(brief.includes('Guidance from a human (follow it)\ndetailed notes'), `attempt 2 was not told the answer:\n${brief.slice(-800)}`);
});

test('a prompt answered by another client disappears here', async () => {
  const b = bosun();
  const run = await stalledRun('Document the release process');
  await until('a prompt for the second run', () => b.queue.all().some((p) => p.runId === run.id), 45_000);
  const prompt = b.queue.all().find((p) => p.runId === run.id);
  assert(prompt, 'prompt vanished');
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const bosunPath = config().get<string>('command');
  assert(folder && bosunPath, 'no workspace folder or bosun.command');
  await answerFromPython(join(dirname(bosunPath), 'python'), folder, prompt.promptId);
  await until('the prompt to leave the queue', () => b.queue.get(prompt.promptId) === undefined);
  assert(b.queue.answer(prompt.promptId)?.by === 'e2e-cli', `answered by ${String(b.queue.answer(prompt.promptId)?.by)}`);
});

/** Answer a prompt through a second connection: the daemon's own Python client. */
function answerFromPython(python: string, folder: string, promptId: string): Promise<void> {
  const script = [
    'import asyncio, sys',
    'from pathlib import Path',
    'from bosun.client import Client',
    'from bosun.workspace import find_workspace',
    'async def main():',
    '    ws = find_workspace(Path(sys.argv[1]))',
    '    async with await Client.connect(ws.socket_path) as c:',
    "        await c.request('bosun/resolveTask', {'promptId': sys.argv[2], 'action': 'abandon', 'by': 'e2e-cli'})",
    'asyncio.run(main())',
  ].join('\n');
  return new Promise((resolve, reject) => {
    execFile(python, ['-c', script, folder, promptId], { timeout: 30_000 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`second client failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
}

test('cancelling the objective prompt creates nothing', async () => {
  const b = bosun();
  const before = b.cache.allRuns().length;
  b.setUi(scripted([], []));
  try {
    const run = await vscode.commands.executeCommand<Run | undefined>('bosun.startObjective');
    assert(run === undefined, 'a run was created without an objective');
  } finally {
    b.setUi(undefined);
  }
  const { runs } = await b.daemon.request('bosun/listRuns', { limit: 50 });
  assert(runs.length === before, `daemon has ${String(runs.length)} runs, expected ${String(before)}`);
});

test('when the daemon restarts the extension reconnects and redraws', async () => {
  const b = bosun();
  const before = await b.daemon.request('bosun/status', {});
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const bosunPath = config().get<string>('command');
  assert(folder && bosunPath, 'no workspace folder or bosun.command');
  const states: string[] = [];
  const sub = b.daemon.onDidChangeState((s) => states.push(s));
  try {
    await exec(bosunPath, ['daemon', 'stop'], folder);
    await until('the connection to drop', () => states.some((s) => s !== 'connected'));
    await until('the extension to reconnect', () => b.daemon.state === 'connected');
  } finally {
    sub.dispose();
  }
  const after = await b.daemon.request('bosun/status', {});
  assert(after.bootId !== before.bootId, 'the same daemon answered; it did not restart');
  const id = created?.id;
  assert(id !== undefined, 'no run from an earlier test');
  await until('the run to be drawn from the new daemon', () => b.runsRows().some((r) => r.runId === id));
});

/** Point bosun.command at a fake for the body, then restore it and wait to reconnect. */
async function withFakeBosun(script: string, body: () => Promise<void>, timeoutSeconds?: number): Promise<void> {
  const b = bosun();
  const dir = mkdtempSync(join(tmpdir(), 'bosun-fake-'));
  const fake = join(dir, 'bosun');
  writeFileSync(fake, `#!/bin/sh\n${script}\n`);
  chmodSync(fake, 0o755);
  const good = config().inspect<string>('command')?.workspaceValue;
  const goodTimeout = config().inspect<number>('requestTimeoutSeconds')?.workspaceValue;
  try {
    if (timeoutSeconds !== undefined) await config().update('requestTimeoutSeconds', timeoutSeconds, vscode.ConfigurationTarget.Workspace);
    await config().update('command', fake, vscode.ConfigurationTarget.Workspace);
    await body();
  } finally {
    await config().update('requestTimeoutSeconds', goodTimeout, vscode.ConfigurationTarget.Workspace);
    await config().update('command', good, vscode.ConfigurationTarget.Workspace);
    rmSync(dir, { recursive: true, force: true });
  }
  await until('the daemon to reconnect', () => b.daemon.state === 'connected');
}

test('a bosun that dies at start fails with its stderr, not a hang', async () => {
  const b = bosun();
  await withFakeBosun("echo \"ModuleNotFoundError: No module named 'bosun'\" >&2; exit 1", async () => {
    await until('the connection to fail', () => b.daemon.state === 'failed');
    assert(/No module named 'bosun'/.test(b.daemon.problem ?? ''), `problem: ${String(b.daemon.problem)}`);
  });
});

test('a bosun that never answers initialize fails at the time limit', async () => {
  const b = bosun();
  await withFakeBosun('exec sleep 60', async () => {
    await until('the connection to fail', () => b.daemon.state === 'failed', 20_000);
    assert(/did not answer initialize within 2 s/.test(b.daemon.problem ?? ''), `problem: ${String(b.daemon.problem)}`);
  }, 2);
});

test('a missing bosun fails with the fix, and fixing it reconnects and redraws', async () => {
  const b = bosun();
  const good = config().inspect<string>('command')?.workspaceValue;
  await config().update('command', '/nonexistent/bosun', vscode.ConfigurationTarget.Workspace);
  try {
    await until('the connection to fail', () => b.daemon.state === 'failed');
    assert(/bosun\.command is "\/nonexistent\/bosun"/.test(b.daemon.problem ?? ''), `problem: ${String(b.daemon.problem)}`);
    assert(b.status().text.includes('$(error)'), `status ${b.status().text}`);
  } finally {
    await config().update('command', good, vscode.ConfigurationTarget.Workspace);
  }
  await until('the daemon to reconnect', () => b.daemon.state === 'connected');
  const run = created;
  assert(run, 'no run from an earlier test');
  await until('the run to be drawn again', () => b.runsRows().some((r) => r.id === `run:${String(run.id)}`));
});

/** Entry point VS Code calls (extensionTestsPath). */
export const run = runCases;
