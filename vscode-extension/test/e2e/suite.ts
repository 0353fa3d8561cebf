/** The small test runner of the in-VS-Code suite and the waits and fakes its cases share. */

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';

import * as vscode from 'vscode';

import type { Ui } from '../../src/commands';
import type { BosunApi } from '../../src/extension';

const TEST_TIMEOUT_MS = 60_000;

interface Case {
  readonly name: string;
  readonly fn: () => Promise<void>;
  /** Run even when $BOSUN_E2E_ONLY picks other cases (the set-up every case needs). */
  readonly always: boolean;
}
const cases: Case[] = [];
export function test(name: string, fn: () => Promise<void>, always = false): void {
  cases.push({ name, fn, always });
}

export function assert(cond: unknown, message: string): asserts cond {
  if (!cond) throw new Error(message);
}

let api: BosunApi | undefined;

/** Record the activated extension's API for every later case. */
export function setApi(value: BosunApi): void {
  api = value;
}
export function bosun(): BosunApi {
  assert(api, 'the extension did not activate');
  return api;
}

type Prompt = ReturnType<BosunApi['queue']['all']>[number];

/** The first open prompt of `kind` for run `runId` (other than `besides`), once the extension has it. */
export async function promptOf(runId: number, kind: string, besides?: Prompt, ms = 45_000): Promise<Prompt> {
  const find = (): Prompt | undefined =>
    bosun()
      .queue.all()
      .find((p) => p.runId === runId && p.kind === kind && p.promptId !== besides?.promptId);
  await until(`a ${kind} prompt of run ${runId}`, () => find() !== undefined, ms);
  const prompt = find();
  assert(prompt, `the ${kind} prompt of run ${runId} went away`);
  return prompt;
}

/**
 * Resolve when `check()` holds, re-checking on every daemon state, cache or prompt change:
 * waits on what the extension reports, never on a fixed sleep.
 */
export function until(what: string, check: () => boolean, ms = 30_000): Promise<void> {
  const b = bosun();
  return new Promise((resolve, reject) => {
    const subs: { dispose(): void }[] = [];
    const done = (err?: Error): void => {
      clearTimeout(timer);
      for (const s of subs) s.dispose();
      if (err) reject(err);
      else resolve();
    };
    const probe = (): void => {
      try {
        if (check()) done();
      } catch (err) {
        done(err instanceof Error ? err : new Error(String(err)));
      }
    };
    const timer = setTimeout(() => {
      done(new Error(`timed out after ${ms} ms waiting for ${what} (daemon: ${b.daemon.state}${b.daemon.problem ? `, ${b.daemon.problem}` : ''})`));
    }, ms);
    subs.push(b.daemon.onDidChangeState(probe));
    subs.push({ dispose: b.cache.onChange(probe) }, { dispose: b.queue.onChange(probe) });
    probe();
  });
}

/** Like `until`, for checks that ask the daemon; re-checked on every change seen. */
export function eventually(what: string, check: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const b = bosun();
  return new Promise((resolve, reject) => {
    let done = false;
    let running = false;
    let again = false;
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      off();
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(`${what}: check failed`));
    };
    const probe = async (): Promise<void> => {
      if (running) {
        again = true;
        return;
      }
      running = true;
      try {
        do {
          again = false;
          if (await check()) finish();
          // `again` is set by probes that arrived while this one awaited the daemon.
        } while ((again as boolean) && !done);
      } catch (err) {
        finish(err);
      } finally {
        running = false;
      }
    };
    const timer = setTimeout(() => {
      finish(new Error(`timed out after ${String(ms)} ms waiting for ${what}`));
    }, ms);
    const off = b.cache.onChange(() => void probe());
    void probe();
  });
}

/**
 * Prompts that answer from a script instead of waiting for a person; each confirmation
 * is answered by the next of `confirms` (yes when they run out) and recorded in `asked`.
 */
export function scripted(inputs: string[], picks: string[][], confirms: boolean[] = [], asked: string[] = []): Ui {
  return {
    confirm: (message, detail) => {
      asked.push(`${message}\n${detail}`);
      return Promise.resolve(confirms.shift() ?? true);
    },
    input: () => Promise.resolve(inputs.shift()),
    pickOne: (items) => {
      const want = picks.shift()?.[0];
      return Promise.resolve(items.find((i) => i.label === want));
    },
    pickMany: (items) => {
      const want = picks.shift() ?? [];
      return Promise.resolve(items.filter((i) => want.includes(i.label)));
    },
  };
}

export const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('bosun');

/** Run a command to completion and return its stdout; rejects with its stderr. */
export function exec(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, timeout: 30_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${command} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}


/** Run every case in order; print and record the results; reject if any failed. */
export async function runCases(): Promise<void> {
  const results: { name: string; ok: boolean; ms: number; error?: string }[] = [];
  // `run-tests.mjs --only TEXT`: the cases whose name contains TEXT (while iterating).
  const only = process.env.BOSUN_E2E_ONLY;
  for (const c of cases.filter((k) => !only || k.always || k.name.includes(only))) {
    const start = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        c.fn(),
        new Promise((_, reject) => {
          timer = setTimeout(() => {
            reject(new Error(`test timed out after ${String(TEST_TIMEOUT_MS)} ms`));
          }, TEST_TIMEOUT_MS);
        }),
      ]);
      results.push({ name: c.name, ok: true, ms: Date.now() - start });
      console.log(`ok - ${c.name}`);
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results.push({ name: c.name, ok: false, ms: Date.now() - start, error });
      console.log(`not ok - ${c.name}\n${error}`);
    } finally {
      clearTimeout(timer);
    }
  }
  const failed = results.filter((r) => !r.ok).length;
  const line = `${String(results.length - failed)} passed, ${String(failed)} failed`;
  console.log(line);
  const out = process.env.BOSUN_E2E_RESULTS;
  if (out) writeFileSync(out, JSON.stringify({ results, summary: line }, null, 2));
  if (failed) throw new Error(line);
}
