/** The client's copy of runs and tasks, kept current by seq-numbered notifications. */

import type { Run, Task } from '../protocol';

interface Versioned<T> {
  readonly value: T;
  readonly seq: number;
}

/** What a notification's seq says about what this client has seen. */
export type SeqVerdict = 'next' | 'seen' | 'gap';

/** Runs and tasks with the seq each was last known at; never goes backwards. */
export class RunCache {
  private readonly runs = new Map<number, Versioned<Run>>();
  private readonly tasks = new Map<number, Map<number, Versioned<Task>>>();
  private seq = 0;
  private readonly listeners = new Set<() => void>();

  /** The highest event seq this client has accounted for. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Call `listener` after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Classify a seq and advance past it; a gap means events were missed before it. */
  observeSeq(seq: number): SeqVerdict {
    if (seq <= this.seq) return 'seen';
    const verdict = seq === this.seq + 1 ? 'next' : 'gap';
    this.seq = seq;
    return verdict;
  }

  /** Raise the high-water mark (after a listing or resync that covers up to `seq`). */
  advanceTo(seq: number): void {
    this.seq = Math.max(this.seq, seq);
  }

  /** Forget everything (a different daemon answered). */
  clear(): void {
    this.runs.clear();
    this.tasks.clear();
    this.seq = 0;
    this.emit();
  }

  /** Store a run unless a newer version is already held; true when stored. */
  putRun(run: Run, seq: number): boolean {
    const changed = putVersioned(this.runs, run.id, run, seq);
    if (changed) this.emit();
    return changed;
  }

  /** Store a task unless a newer version is already held; true when stored. */
  putTask(task: Task, seq: number): boolean {
    let byId = this.tasks.get(task.runId);
    if (!byId) {
      byId = new Map();
      this.tasks.set(task.runId, byId);
    }
    const changed = putVersioned(byId, task.id, task, seq);
    if (changed) this.emit();
    return changed;
  }

  /** Store a run with its full task list as of `seq` (tasks absent from the list go). */
  putRunWithTasks(run: Run, tasks: readonly Task[], seq: number): void {
    putVersioned(this.runs, run.id, run, seq);
    const old = this.tasks.get(run.id) ?? new Map<number, Versioned<Task>>();
    const next = new Map<number, Versioned<Task>>();
    for (const task of tasks) {
      const prev = old.get(task.id);
      next.set(task.id, prev && prev.seq > seq ? prev : { value: task, seq });
    }
    // A task newer than this listing was created after it was taken: keep it.
    for (const [id, prev] of old) if (!next.has(id) && prev.seq > seq) next.set(id, prev);
    this.tasks.set(run.id, next);
    this.emit();
  }

  /**
   * Drop runs not in `keep`, a listing taken at `seq`; a run seen after that seq was
   * created after the listing and stays.
   */
  retainRuns(keep: ReadonlySet<number>, seq: number): void {
    for (const [id, entry] of [...this.runs.entries()]) {
      if (!keep.has(id) && entry.seq <= seq) {
        this.runs.delete(id);
        this.tasks.delete(id);
      }
    }
    this.emit();
  }

  /** All runs held. */
  allRuns(): Run[] {
    return [...this.runs.values()].map((v) => v.value);
  }

  /** One run, if held. */
  run(runId: number): Run | undefined {
    return this.runs.get(runId)?.value;
  }

  /** The tasks of a run, in id order. */
  tasksOf(runId: number): Task[] {
    return [...(this.tasks.get(runId)?.values() ?? [])].map((v) => v.value).sort((a, b) => a.id - b.id);
  }

  /** A task by id, searching every run. */
  task(taskId: number): Task | undefined {
    for (const byId of this.tasks.values()) {
      const hit = byId.get(taskId);
      if (hit) return hit.value;
    }
    return undefined;
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}

function putVersioned<T>(map: Map<number, Versioned<T>>, id: number, value: T, seq: number): boolean {
  const prev = map.get(id);
  // Equal seq wins: one event may carry several notifications, and a listing taken at
  // the same seq is at least as fresh.
  if (prev && prev.seq > seq) return false;
  map.set(id, { value, seq });
  return true;
}
