import assert from 'node:assert/strict';
import { beforeEach, test } from 'node:test';

import { LiveTranscript } from '../../src/logic/transcriptLive';
import { transcriptMarkdown } from '../../src/logic/transcriptText';
import type { Message, TranscriptDelta } from '../../src/protocol';

const TS = '2026-01-01T00:00:00Z';
const msg = (id: number, role: string, content: string, attempt = 1): Message => ({ id, taskId: 7, attempt, role, content, ts: TS });
// Deltas are numbered per attempt as the daemon numbers them (1, 2, 3…).
const sent = new Map<number, number>();
const seq = (attempt: number): number => {
  sent.set(attempt, (sent.get(attempt) ?? 0) + 1);
  return sent.get(attempt) ?? 0;
};
beforeEach(() => {
  sent.clear();
});
const text = (delta: string, attempt = 1): TranscriptDelta => ({ taskId: 7, attempt, role: 'assistant', delta, seq: seq(attempt) });
const stored = (messageId: number, role = 'assistant', delta = '', attempt = 1): TranscriptDelta => ({ taskId: 7, attempt, role, delta, messageId, seq: seq(attempt) });

function loaded(): LiveTranscript {
  const t = new LiveTranscript(7);
  t.beginLoad();
  t.load([msg(10, 'system', 'rules'), msg(11, 'user', 'the task')], false, 1);
  return t;
}

test('deltas in order append the streamed text, then the stored message it completes', () => {
  const t = loaded();
  assert.equal(t.apply(text('Reading ')), 'appended');
  assert.equal(t.apply(text('the README.')), 'appended');
  assert.deepEqual(t.view().live, [{ role: 'assistant', text: 'Reading the README.' }]);
  assert.equal(t.apply(stored(15)), 'appended');
  assert.equal(t.apply(stored(16, 'tool', '\n[read_file] # Sample\n')), 'appended');
  assert.deepEqual(t.view().live, [
    { id: 15, role: 'assistant', text: 'Reading the README.' },
    { id: 16, role: 'tool', text: '\n[read_file] # Sample\n' },
  ]);
  assert.equal(t.needsFetch, false);
  const md = transcriptMarkdown(undefined, 7, t.view().messages, false, t.view().live);
  assert.ok(md.indexOf('the task') < md.indexOf('Reading the README.') && md.includes('[read_file] # Sample'), md);
});

test('the message being written shows as such until it is stored', () => {
  const t = loaded();
  t.apply(text('Half a sent'));
  const md = transcriptMarkdown(undefined, 7, t.view().messages, false, t.view().live);
  assert.match(md, /## assistant · writing…\n\nHalf a sent/);
});

test('deltas of messages the fetched page already has are duplicates', () => {
  const t = new LiveTranscript(7);
  t.beginLoad();
  // These arrive while the page is being fetched, and the page has message 12 already.
  assert.equal(t.apply(text('I will look.')), 'buffered');
  assert.equal(t.apply(stored(12)), 'buffered');
  assert.equal(t.apply(text('Now the ')), 'buffered');
  t.load([msg(10, 'system', 'rules'), msg(11, 'user', 'task'), msg(12, 'assistant', 'I will look.')], false, 1);
  assert.deepEqual(t.view().live, [{ role: 'assistant', text: 'Now the ' }]);
  assert.equal(t.apply(stored(12)), 'duplicate');
  assert.equal(t.view().messages.length, 3);
});

test('text streamed for a message the page turned out to hold is dropped when its id arrives', () => {
  const t = new LiveTranscript(7);
  t.beginLoad();
  t.apply(text('Done.'));
  t.load([msg(10, 'system', 'rules'), msg(12, 'assistant', 'Done.')], false, 1);
  assert.deepEqual(t.view().live, [{ role: 'assistant', text: 'Done.' }]);
  assert.equal(t.apply(stored(12)), 'duplicate');
  assert.deepEqual(t.view().live, []);
});

test('a new attempt is a gap: the view asks to be fetched again', () => {
  const t = loaded();
  assert.equal(t.apply(stored(30, 'system', '', 2)), 'refetch');
  assert.equal(t.needsFetch, true);
  assert.equal(t.apply(text('more', 2)), 'refetch');
  t.beginLoad();
  t.load([msg(30, 'system', 'rules', 2)], false, 2);
  assert.equal(t.attempt, 2);
  assert.equal(t.apply(text('late text of attempt 1', 1)), 'stale');
  assert.equal(t.apply(text('hello', 2)), 'appended');
});

test('a stored message whose text was never streamed is fetched on its own, not the whole transcript', () => {
  const t = loaded();
  const none = t.catchUpFrom;
  assert.equal(none, undefined);
  assert.equal(t.apply(stored(20, 'system', '')), 'appended');
  assert.equal(t.needsFetch, false);
  const from = t.catchUpFrom;
  assert.ok(from);
  assert.deepEqual({ afterId: from.afterId, attempt: from.attempt }, { afterId: 11, attempt: 1 });
  assert.equal(t.catchUp(from.generation, [msg(20, 'system', 'time limit reached')]), true);
  assert.deepEqual(t.view().live, []);
  assert.deepEqual(t.view().messages.map((m) => m.id), [10, 11, 20]);
  assert.equal(t.catchUpFrom, undefined);
});

test('the stored message replaces the text streamed for it, whether its marker had text or not', () => {
  const t = loaded();
  t.apply(text('Reading the README. '));
  t.apply(text('\n→ read_file {"path": "README.md"}'));
  assert.equal(t.apply(stored(15)), 'appended'); // the marker: no text of its own
  assert.equal(t.apply(stored(16, 'tool', '\n[read_file] # Sample token=abc\n')), 'appended');
  t.apply(text('Now the '));
  const from = t.catchUpFrom;
  assert.ok(from);
  const page = [msg(15, 'assistant', 'Reading the README.'), msg(16, 'tool', '# Sample token=[REDACTED]')];
  assert.equal(t.catchUp(from.generation, page), true);
  assert.deepEqual(t.view().messages.map((m) => m.content), ['rules', 'the task', 'Reading the README.', '# Sample token=[REDACTED]']);
  // what streams for the next message stays until that one is stored too
  assert.deepEqual(t.view().live, [{ role: 'assistant', text: 'Now the ' }]);
  assert.equal(t.apply(stored(15)), 'duplicate');
});

test('stored messages fetched for markers stop at the fetch: later markers wait for the next one', () => {
  const t = loaded();
  t.apply(text('one'));
  t.apply(stored(15));
  const from = t.catchUpFrom;
  assert.ok(from);
  t.apply(text('two'));
  t.apply(stored(17)); // came while message 15 was being fetched
  assert.equal(t.catchUp(from.generation, [msg(15, 'assistant', 'one')]), true);
  assert.deepEqual(t.view().live, [{ id: 17, role: 'assistant', text: 'two' }]);
  const next = t.catchUpFrom;
  assert.ok(next);
  assert.equal(next.afterId, 15);
  assert.equal(t.catchUp(next.generation, []), false); // nothing new: no loop of fetches
});

test('stored messages fetched before the transcript was loaded again are dropped', () => {
  const t = loaded();
  t.apply(text('one'));
  t.apply(stored(15));
  const from = t.catchUpFrom;
  assert.ok(from);
  t.invalidate();
  assert.equal(t.catchUpFrom, undefined); // a whole fetch is due instead
  t.beginLoad();
  t.load([msg(10, 'system', 'rules'), msg(11, 'user', 'the task'), msg(15, 'assistant', 'one')], false, 1);
  assert.equal(t.catchUp(from.generation, [msg(15, 'assistant', 'one')]), false);
  assert.deepEqual(t.view().messages.map((m) => m.id), [10, 11, 15]);
});

test('the task moving to a newer attempt refetches a latest-attempt view, not a pinned one', () => {
  const latest = loaded();
  assert.equal(latest.attemptChanged(1), false);
  assert.equal(latest.attemptChanged(2), true);
  assert.equal(latest.needsFetch, true);
  const pinned = new LiveTranscript(7, 1);
  pinned.beginLoad();
  pinned.load([msg(10, 'system', 'rules')], false, undefined);
  assert.equal(pinned.attemptChanged(2), false);
  assert.equal(pinned.apply(text('other attempt', 2)), 'stale');
  assert.equal(pinned.attempt, 1);
});

test('a failed fetch drops what it held and stays due for a fetch', () => {
  const t = new LiveTranscript(7);
  t.beginLoad();
  t.apply(text('lost'));
  t.failLoad();
  assert.equal(t.needsFetch, true);
  assert.equal(t.apply(text('x')), 'refetch');
});

test('deltas of another task are not merged', () => {
  const t = loaded();
  assert.equal(t.apply({ taskId: 8, attempt: 1, delta: 'x', seq: 1 }), 'stale');
  assert.deepEqual(t.view().live, []);
});

test('deltas numbered in order are applied, one already applied is ignored', () => {
  const t = loaded();
  const first = text('Reading ');
  assert.equal(t.apply(first), 'appended');
  assert.equal(t.apply(text('the README.')), 'appended');
  assert.equal(t.apply(first), 'duplicate');
  assert.equal(t.apply({ ...first, seq: 2, delta: 'again' }), 'duplicate');
  assert.deepEqual(t.view().live, [{ role: 'assistant', text: 'Reading the README.' }]);
  assert.equal(t.needsFetch, false);
});

test('a missing seq is a lost delta: the view asks to be fetched again', () => {
  const t = loaded();
  assert.equal(t.apply(text('Reading ')), 'appended');
  text('lost on the way');
  assert.equal(t.apply(text('the README.')), 'refetch');
  assert.equal(t.needsFetch, true);
  t.beginLoad();
  t.load([msg(10, 'system', 'rules'), msg(11, 'user', 'the task')], false, 1);
  // After a fetch the first delta sets the count again, wherever it stands.
  assert.equal(t.apply(text('Then ')), 'appended');
  assert.equal(t.apply(text('more.')), 'appended');
  assert.deepEqual(t.view().live, [{ role: 'assistant', text: 'Then more.' }]);
});

test('deltas held during a fetch keep their order checks when replayed', () => {
  const t = new LiveTranscript(7);
  t.beginLoad();
  const a = text('one ');
  assert.equal(t.apply(a), 'buffered');
  assert.equal(t.apply(a), 'buffered');
  assert.equal(t.apply(text('two')), 'buffered');
  t.load([msg(10, 'system', 'rules')], false, 1);
  assert.deepEqual(t.view().live, [{ role: 'assistant', text: 'one two' }]);
  assert.equal(t.needsFetch, false);
});
