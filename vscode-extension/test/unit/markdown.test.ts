import assert from 'node:assert/strict';
import { test } from 'node:test';

import { mdCode, mdFence, mdText } from '../../src/logic/markdown';
import { promptTooltip } from '../../src/logic/prompts';
import { taskTooltip } from '../../src/logic/runTree';
import { task } from './fixtures';

// What a model (or a file it read) might put in a title, reason or argument.
const HOSTILE = '[Approve](command:bosun.resolveTask) ![x](https://tracker.invalid/p.png) $(pass-filled) <img src=x> **bold**';

test('task-written text in a tooltip draws no link, image, icon, tag or emphasis', () => {
  const md = mdText(HOSTILE);
  for (const raw of [/(?<!\\)\[Approve/, /(?<!\\)!(?<!\\)\[x/, /(?<!\\)\$\(pass/, /(?<!\\)<img/, /(?<!\\)\*\*bold/]) {
    assert.doesNotMatch(md, raw);
  }
  assert.equal(md.replace(/\\(.)/g, '$1'), HOSTILE, 'unescaped it is the same text');
});

test('line breaks in task-written text stay line breaks, and start no heading or list', () => {
  assert.equal(mdText('one\ntwo'), 'one  \ntwo');
  assert.equal(mdText('# Title\n- item\n1. first'), '\\# Title  \n\\- item  \n1\\. first');
});

test('a code span or fence cannot be closed from inside', () => {
  assert.equal(mdCode('a`b'), '``a`b``');
  assert.equal(mdCode('`x'), '`` `x ``');
  const fenced = mdFence('```\n[link](https://x)\n```', 'json');
  assert.ok(fenced.startsWith('````json\n') && fenced.endsWith('\n````'));
});

test('a task tooltip shows a hostile title, description and reason as text', () => {
  const md = taskTooltip(task(1, 1, { title: HOSTILE, description: HOSTILE, reason: HOSTILE }));
  assert.doesNotMatch(md, /(?<!\\)\[Approve\]/);
  assert.doesNotMatch(md, /(?<!\\)!\[x/);
  assert.doesNotMatch(md, /(?<!\\)\$\(pass-filled/, 'only Bosun draws icons');
});

test('an approval tooltip fences arguments that contain a fence', () => {
  const md = promptTooltip(
    {
      promptId: '1', runId: 1, taskId: 1, kind: 'tool_approval', reason: HOSTILE, options: ['approve', 'deny'],
      createdAt: '2026-01-01T00:00:00Z',
      approval: { tool: 'run_command', arguments: { command: '```\n[a](https://x)\n```' }, rule: 'ask' },
    },
    task(1, 1, { title: HOSTILE }),
  );
  assert.doesNotMatch(md, /(?<!\\)\[Approve\]/);
  assert.ok(md.includes('````json'), md);
});
