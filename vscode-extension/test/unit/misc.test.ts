import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RequestTimeoutError, withDeadline } from '../../src/logic/deadline';
import { describeError, protocolProblem } from '../../src/logic/errors';
import { formatCacheAndEstimate, formatCost } from '../../src/logic/format';
import { statusModel } from '../../src/logic/status';
import { transcriptMarkdown } from '../../src/logic/transcriptText';
import { run, task } from './fixtures';

test('a request that never answers is rejected at its deadline and cancelled', async () => {
  let cancelled = false;
  const never = new Promise<never>(() => undefined);
  await assert.rejects(
    withDeadline(never, 20, () => new RequestTimeoutError('bosun/listRuns', 0.02), () => (cancelled = true)),
    /bosun\/listRuns got no answer within 0\.02 s/,
  );
  assert.ok(cancelled);
});

test('an answer before the deadline passes through', async () => {
  assert.equal(await withDeadline(Promise.resolve(7), 1000, () => new Error('late')), 7);
});

test('method-not-found names the method and the fix', () => {
  const msg = describeError('bosun/pauseRun', Object.assign(new Error('Method not found'), { code: -32601 }));
  assert.equal(msg, 'This bosun daemon does not support bosun/pauseRun yet; update bosun.');
});

test('other daemon errors keep the daemon message', () => {
  assert.equal(describeError('bosun/updateTask', Object.assign(new Error('cycle: t1 → t2 → t1'), { code: -32053 })), 'cycle: t1 → t2 → t1');
});

test('protocol majors must match; minors may differ', () => {
  assert.equal(protocolProblem('0.1.0', '0.3.2'), undefined);
  assert.match(protocolProblem('0.1.0', '1.0.0') ?? '', /speaks protocol 1\.0\.0/);
});

test('cost shows dollars, or tokens when the price is unknown', () => {
  assert.equal(formatCost({ usd: 1.234 }), '$1.23');
  assert.equal(formatCost({ usd: null, inputTokens: 12_000, outputTokens: 400 }), '12k tok');
  assert.equal(formatCost({}), '');
});

test('the cache share and estimated tokens are shown when there are any', () => {
  assert.equal(formatCacheAndEstimate({ inputTokens: 1000, cachedTokens: 620 }), '62% from cache');
  assert.equal(formatCacheAndEstimate({ inputTokens: 5000, estimatedTokens: 3000 }), '~3.0k tok estimated');
  assert.equal(formatCacheAndEstimate({ inputTokens: 10 }), '');
  assert.equal(formatCacheAndEstimate({ outputTokens: 5000, reasoningTokens: 4000 }), '4.0k tok reasoning');
});

test('the status bar shows the newest unfinished run with progress', () => {
  const runs = [run(1, { state: 'running' }), run(2, { state: 'pending' }), run(3, { state: 'completed' })];
  const m = statusModel('connected', runs, (id) => (id === 2 ? [task(1, 2, { state: 'complete' }), task(2, 2)] : []));
  assert.equal(m.text, '$(clock) Bosun #2 1/2');
  assert.equal(m.runId, 2);
});

test('the status bar says why when the daemon failed', () => {
  const m = statusModel('failed', [], () => [], 'Cannot find the bosun command');
  assert.equal(m.text, '$(error) Bosun');
  assert.match(m.tooltip, /Cannot find the bosun command/);
});

test('hostile transcript content cannot close its code fence', () => {
  const md = transcriptMarkdown(undefined, 1, [{ id: 1, taskId: 1, attempt: 1, role: 'tool', content: '```\n# injected', ts: 't' }], false);
  assert.match(md, /````\n```\n# injected\n````/);
});

test('a run without tasks yet shows its state instead of 0/0', () => {
  const m = statusModel('connected', [run(4, { state: 'pending' })], () => []);
  assert.equal(m.text, '$(clock) Bosun #4 pending');
});
