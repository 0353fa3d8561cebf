import assert from 'node:assert/strict';
import { test } from 'node:test';

import { OneAtATime } from '../../src/logic/oneAtATime';

/** A job whose runs each wait for `release()`; it counts runs started. */
function gatedJob(): { job: () => Promise<void>; runs: () => number; release: () => void } {
  let runs = 0;
  let open: (() => void) | undefined;
  return {
    job: () => {
      runs++;
      return new Promise<void>((resolve) => (open = resolve));
    },
    runs: () => runs,
    release: () => {
      const r = open;
      open = undefined;
      r?.();
    },
  };
}

async function settled(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}

test('asked for while it runs, the job runs once more after, however often it was asked', async () => {
  const g = gatedJob();
  const one = new OneAtATime(g.job);
  one.request();
  one.request();
  one.request();
  assert.equal(g.runs(), 1); // never two at once
  g.release();
  await settled();
  assert.equal(g.runs(), 2); // the requests made meanwhile: one more run
  g.release();
  await one.idle();
  assert.equal(g.runs(), 2);
});

test('asked for when idle, the job runs at once and only once', async () => {
  const g = gatedJob();
  const one = new OneAtATime(g.job);
  one.request();
  g.release();
  await one.idle();
  one.request();
  assert.equal(g.runs(), 2);
  g.release();
  await one.idle();
  assert.equal(g.runs(), 2);
});

test('a job that fails ends the round and the next request runs it again', async () => {
  let runs = 0;
  const one = new OneAtATime(() => {
    runs++;
    return Promise.reject(new Error('boom'));
  });
  one.request();
  await assert.rejects(one.idle(), /boom/);
  one.request();
  await assert.rejects(one.idle(), /boom/);
  assert.equal(runs, 2);
});
