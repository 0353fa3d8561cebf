import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PromptQueue, promptAnswers, promptTooltip, resolveParams } from '../../src/logic/prompts';
import { needsYouTree } from '../../src/logic/runTree';
import type { HumanPrompt } from '../../src/protocol';
import { run, task } from './fixtures';

function prompt(id: string, over: Partial<HumanPrompt> = {}): HumanPrompt {
  return { promptId: id, runId: 1, taskId: 1, kind: 'retries_spent', reason: 'four attempts failed', options: ['retry', 'abandon', 'spawn'], createdAt: `2026-01-01T00:00:0${id}Z`, ...over };
}

test('a prompt answered by another client leaves the queue and cannot come back', () => {
  const q = new PromptQueue();
  q.add(prompt('1'));
  q.resolved({ promptId: '1', runId: 1, by: 'cli', action: 'abandon' });
  assert.equal(q.add(prompt('1')), false);
  q.replace([prompt('1'), prompt('2')], q.mark());
  assert.deepEqual(q.all().map((p) => p.promptId), ['2']);
  assert.equal(q.answer('1')?.by, 'cli');
});

test('the same prompt notified twice is added once', () => {
  const q = new PromptQueue();
  let changes = 0;
  q.onChange(() => changes++);
  assert.equal(q.add(prompt('1')), true);
  assert.equal(q.add(prompt('1')), false);
  assert.equal(changes, 1);
});

test('an answer names the prompt, and words go where the action reads them', () => {
  assert.deepEqual(resolveParams(prompt('1'), 'retry', '  use the v2 API '), { action: 'retry', by: 'vscode', promptId: '1', guidance: 'use the v2 API' });
  assert.deepEqual(resolveParams(prompt('1'), 'spawn', 'split it'), { action: 'spawn', by: 'vscode', promptId: '1', description: 'split it' });
  assert.deepEqual(resolveParams({ promptId: '', taskId: 7 }, 'abandon', '   '), { action: 'abandon', by: 'vscode', taskId: 7 });
});

test('needs-you shows prompts first and waiting tasks no prompt covers', () => {
  const tasks = [task(1, 1, { state: 'waiting_human', title: 'covered' }), task(2, 1, { state: 'waiting_human', title: 'bare' })];
  const rows = needsYouTree([prompt('1', { kind: 'tool_approval', options: ['approve', 'deny'] })], [run(1)], () => tasks);
  assert.deepEqual(rows.map((r) => [r.id, r.label, r.contextValue]), [
    ['prompt:1', 'covered', 'prompt:tool_approval'],
    ['needs:2', 'bare', 'task:waiting_human'],
  ]);
  assert.equal(rows[0]?.promptId, '1');
});

test('a tool approval tooltip shows the tool and its arguments', () => {
  const tip = promptTooltip(prompt('1', { kind: 'tool_approval', options: ['approve', 'deny'], approval: { tool: 'run_command', arguments: { cmd: 'rm -rf build' } } }), undefined);
  assert.match(tip, /Tool `run_command`/);
  assert.match(tip, /"cmd": "rm -rf build"/);
  assert.match(tip, /Answers: Approve, Deny…/);
});

test('a prompt notified while a listing is on its way survives the older listing', () => {
  const q = new PromptQueue();
  q.add(prompt('0'));
  const mark = q.mark();
  q.add(prompt('2'));
  // The listing was taken before prompt 2 opened and after prompt 0 was answered elsewhere.
  q.replace([prompt('1')], mark);
  assert.deepEqual(q.all().map((p) => p.promptId), ['1', '2']);
});

test("an agent's suggested answers come first, each a retry with its choice, then the actions", () => {
  const asked = prompt('1', { kind: 'ask_human', choices: ['plain code blocks', 'doctests'] });
  const answers = promptAnswers(asked);
  assert.deepEqual(
    answers.map((a) => [a.short, a.action, a.choice]),
    [
      ['plain code blocks', 'retry', 'plain code blocks'],
      ['doctests', 'retry', 'doctests'],
      ['Retry…', 'retry', undefined],
      ['Abandon', 'abandon', undefined],
      ['Replace…', 'spawn', undefined],
    ],
  );
  assert.deepEqual(answers.slice(2).map((a) => a.label), ['Retry with guidance…', 'Abandon', 'Spawn a replacement…']);
  assert.match(promptTooltip(asked, undefined), /Answers: "plain code blocks", "doctests", Retry with guidance…/);
});

test('a prompt without choices offers its actions only', () => {
  assert.deepEqual(promptAnswers(prompt('1')).map((a) => a.action), ['retry', 'abandon', 'spawn']);
  assert.deepEqual(promptAnswers(prompt('1', { choices: [] })).map((a) => a.choice), [undefined, undefined, undefined]);
});

test('choices are not offered where retry is not an answer the daemon takes', () => {
  const approval = prompt('1', { kind: 'tool_approval', options: ['approve', 'deny'], choices: ['yes'] });
  assert.deepEqual(promptAnswers(approval).map((a) => a.short), ['Approve', 'Deny…']);
});

test('a long suggested answer is cut on its button and kept whole as the choice', () => {
  const long = `Use ${'a very '.repeat(10)}long answer`;
  const [first] = promptAnswers(prompt('1', { choices: [long] }));
  assert.ok(first && first.short.length === 40 && first.short.endsWith('…'), first?.short);
  assert.equal(first.choice, long);
});

test('picking a suggested answer sends it as the choice of a retry', () => {
  assert.deepEqual(resolveParams(prompt('1'), 'retry', undefined, 'doctests'), { action: 'retry', by: 'vscode', promptId: '1', choice: 'doctests' });
});
