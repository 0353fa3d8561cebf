import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RunCache } from '../../src/logic/runCache';
import { RunSync, type RequestFn } from '../../src/logic/sync';
import type { Event, Run, Task } from '../../src/protocol';
import { run, task } from './fixtures';

/** An in-memory board answering the requests RunSync makes, counting calls. */
class FakeBoard {
  runs = new Map<number, Run>();
  tasks: Task[] = [];
  events: Event[] = [];
  calls: string[] = [];
  lastSeq = 0;

  request: RequestFn = (method, params) => {
    this.calls.push(method);
    const p = params as Record<string, number>;
    const answer = ((): unknown => {
      switch (method) {
        case 'bosun/status':
          return { lastSeq: this.lastSeq };
        case 'bosun/listRuns':
          return { runs: [...this.runs.values()] };
        case 'bosun/getRun': {
          const r = this.runs.get(p.runId ?? -1);
          if (!r) throw Object.assign(new Error('no such run'), { code: -32050 });
          return { run: r, tasks: this.tasks.filter((t) => t.runId === r.id) };
        }
        case 'bosun/eventsSince': {
          const events = this.events.filter((e) => e.seq > (p.after ?? 0)).slice(0, p.limit);
          const tail = events[events.length - 1];
          return { events, more: tail !== undefined && tail.seq < this.lastSeq, lastSeq: this.lastSeq };
        }
        default:
          throw new Error(`unexpected ${method}`);
      }
    })();
    return Promise.resolve(answer as never);
  };

  event(kind: string, runId: number): number {
    this.lastSeq++;
    this.events.push({ seq: this.lastSeq, ts: '2026-01-01T00:00:00Z', kind, runId });
    return this.lastSeq;
  }
}

test('reload fills the cache with runs and tasks at the daemon seq', async () => {
  const board = new FakeBoard();
  board.runs.set(1, run(1));
  board.tasks = [task(1, 1), task(2, 1)];
  board.lastSeq = 42;
  const cache = new RunCache();
  await new RunSync(board.request, cache, () => undefined).reload();
  assert.equal(cache.lastSeq, 42);
  assert.deepEqual(cache.tasksOf(1).map((t) => t.id), [1, 2]);
});

test('consecutive notifications apply without asking the daemon', async () => {
  const board = new FakeBoard();
  const cache = new RunCache();
  const sync = new RunSync(board.request, cache, () => undefined);
  sync.onRunChanged({ seq: 1, run: run(1, { state: 'pending' }) });
  sync.onTaskChanged({ seq: 2, task: task(1, 1, { state: 'ready' }) });
  sync.onRunChanged({ seq: 2, run: run(1, { state: 'running' }) });
  await sync.idle();
  assert.deepEqual(board.calls, []);
  assert.equal(cache.run(1)?.state, 'running');
});

test('a seq gap resyncs the runs named by the missed events', async () => {
  const board = new FakeBoard();
  board.runs.set(1, run(1, { state: 'running' }));
  board.runs.set(2, run(2, { state: 'paused' }));
  board.tasks = [task(7, 2, { state: 'failed' })];
  board.event('run.created', 1);
  board.event('task.failed', 2);
  const seq = board.event('run.started', 1);
  const cache = new RunCache();
  const logs: string[] = [];
  const sync = new RunSync(board.request, cache, (m) => logs.push(m));
  cache.advanceTo(0);
  sync.onRunChanged({ seq, run: run(1, { state: 'running' }) });
  await sync.idle();
  assert.deepEqual(board.calls.filter((c) => c === 'bosun/getRun').length, 2);
  assert.equal(cache.run(2)?.state, 'paused');
  assert.equal(cache.task(7)?.state, 'failed');
  assert.equal(cache.lastSeq, 3);
  assert.match(logs[0] ?? '', /missed events 1\.\.2/);
});

test('a failing resync is logged and later syncs still run', async () => {
  const board = new FakeBoard();
  const cache = new RunCache();
  const logs: string[] = [];
  const sync = new RunSync(board.request, cache, (m) => logs.push(m));
  board.event('run.created', 99);
  board.event('run.created', 99);
  sync.onEvent({ event: { seq: 2, ts: '', kind: 'x' } });
  await sync.idle();
  assert.ok(logs.some((l) => l.startsWith('sync failed: no such run')));
  board.runs.set(1, run(1));
  await sync.reload();
  assert.deepEqual(cache.allRuns().map((r) => r.id), [1]);
});
