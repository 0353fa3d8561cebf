/** Keeps a RunCache equal to the daemon's board: full loads, notifications, resync on gaps. */

import type { BosunRequests, EventNotification, RunChanged, TaskChanged } from '../protocol';
import type { RunCache } from './runCache';

/** Send one typed request to the daemon. */
export type RequestFn = <M extends keyof BosunRequests>(
  method: M,
  params: BosunRequests[M]['params'],
) => Promise<BosunRequests[M]['result']>;

const RUN_PAGE = 50;
const EVENT_PAGE = 500;
// Past this many changed runs a resync refetches everything instead of run by run.
const RESYNC_FULL_RELOAD = 20;

/** Applies notifications to the cache and repairs it when some were missed. */
export class RunSync {
  private chain: Promise<void> = Promise.resolve();
  private resyncFrom: number | undefined;

  constructor(
    private readonly request: RequestFn,
    readonly cache: RunCache,
    private readonly log: (message: string) => void,
  ) {}

  /** Fetch the newest runs and their tasks; queued behind any sync in flight. */
  reload(): Promise<void> {
    return this.enqueue(() => this.fullReload());
  }

  /** Resolves once every queued load and resync has finished. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** `bosun/runChanged`. */
  onRunChanged(note: RunChanged): void {
    this.noteSeq(note.seq);
    this.cache.putRun(note.run, note.seq);
  }

  /** `bosun/taskChanged`. */
  onTaskChanged(note: TaskChanged): void {
    this.noteSeq(note.seq);
    this.cache.putTask(note.task, note.seq);
  }

  /** `bosun/event`: only its seq matters here (the changed entities come separately). */
  onEvent(note: EventNotification): void {
    this.noteSeq(note.event.seq);
  }

  private noteSeq(seq: number): void {
    const before = this.cache.lastSeq;
    if (this.cache.observeSeq(seq) !== 'gap') return;
    this.log(`missed events ${before + 1}..${seq - 1}; resyncing`);
    if (this.resyncFrom !== undefined) {
      this.resyncFrom = Math.min(this.resyncFrom, before);
      return;
    }
    this.resyncFrom = before;
    void this.enqueue(() => {
      const from = this.resyncFrom ?? before;
      this.resyncFrom = undefined;
      return this.resync(from);
    });
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const next = this.chain.then(job).catch((err: unknown) => {
      this.log(`sync failed: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.chain = next;
    return next;
  }

  private async fullReload(): Promise<void> {
    // The seq is read first: anything after it arrives as a notification with a higher seq.
    const status = await this.request('bosun/status', {});
    const { runs } = await this.request('bosun/listRuns', { limit: RUN_PAGE });
    const details = await Promise.all(runs.map((r) => this.request('bosun/getRun', { runId: r.id })));
    for (const d of details) this.cache.putRunWithTasks(d.run, d.tasks, status.lastSeq);
    this.cache.retainRuns(new Set(runs.map((r) => r.id)), status.lastSeq);
    this.cache.advanceTo(status.lastSeq);
  }

  private async resync(from: number): Promise<void> {
    const changed = new Set<number>();
    let after = from;
    let lastSeq = from;
    for (;;) {
      const page = await this.request('bosun/eventsSince', { after, limit: EVENT_PAGE });
      for (const e of page.events) if (e.runId !== null && e.runId !== undefined) changed.add(e.runId);
      lastSeq = Math.max(lastSeq, page.lastSeq);
      const tail = page.events[page.events.length - 1];
      if (!page.more || !tail) break;
      after = tail.seq;
    }
    if (changed.size > RESYNC_FULL_RELOAD) {
      await this.fullReload();
      return;
    }
    for (const runId of changed) {
      const d = await this.request('bosun/getRun', { runId });
      this.cache.putRunWithTasks(d.run, d.tasks, lastSeq);
    }
    this.cache.advanceTo(lastSeq);
  }
}
