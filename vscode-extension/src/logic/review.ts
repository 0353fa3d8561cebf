/** A review in progress: the task's diff, a verdict per hunk, comments, and the decision they make. */

import type { FileDiff, ReviewComment, ReviewTaskParams, TaskDiffResult } from '../protocol';

/** What the reviewer said about one hunk. */
export type HunkVerdict = 'approve' | 'reject';

/** Counts shown on the review's summary lens. */
export interface ReviewTally {
  readonly approved: number;
  readonly rejected: number;
  readonly undecided: number;
}

/** One task's review; nothing reaches the daemon until `decision()` is sent. */
export class ReviewState {
  private readonly verdicts = new Map<string, HunkVerdict>();
  private readonly notes: ReviewComment[] = [];

  constructor(readonly diff: TaskDiffResult) {}

  /** Every hunk id of the diff, in file order. */
  hunkIds(): string[] {
    return this.diff.files.flatMap((f) => (f.hunks ?? []).map((h) => h.id));
  }

  /** The file with this path, if the diff has it. */
  file(path: string): FileDiff | undefined {
    return this.diff.files.find((f) => f.path === path);
  }

  /** Record (or with undefined, clear) the verdict on one hunk; unknown ids are refused. */
  decide(hunkId: string, verdict: HunkVerdict | undefined): void {
    if (!this.hunkIds().includes(hunkId)) throw new Error(`hunk ${hunkId} is not part of this review`);
    if (verdict) this.verdicts.set(hunkId, verdict);
    else this.verdicts.delete(hunkId);
  }

  /** The verdict on a hunk, if any. */
  verdict(hunkId: string): HunkVerdict | undefined {
    return this.verdicts.get(hunkId);
  }

  /** Approve every hunk at once. */
  approveAll(): void {
    for (const id of this.hunkIds()) this.verdicts.set(id, 'approve');
  }

  /** Add a "request changes" comment, optionally anchored to a file and hunk. */
  comment(body: string, path?: string, hunkId?: string): void {
    const text = body.trim();
    if (!text) return;
    this.notes.push({ body: text, ...(path ? { path } : {}), ...(hunkId ? { hunkId } : {}) });
  }

  /** Comments so far. */
  comments(): readonly ReviewComment[] {
    return this.notes;
  }

  /** Approved, rejected and undecided hunk counts. */
  tally(): ReviewTally {
    const ids = this.hunkIds();
    const approved = ids.filter((id) => this.verdicts.get(id) === 'approve').length;
    const rejected = ids.filter((id) => this.verdicts.get(id) === 'reject').length;
    return { approved, rejected, undecided: ids.length - approved - rejected };
  }

  /**
   * The decision these verdicts make, or why there is none yet. Comments send the task
   * back; all hunks approved merges everything; some approved merges exactly those;
   * only rejections reject the task.
   */
  decision(): { decision: ReviewTaskParams['decision'] } | { problem: string } {
    const [first, ...rest] = this.notes;
    if (first) return { decision: { kind: 'request_changes', comments: [first, ...rest] } };
    const ids = this.hunkIds();
    const approved = ids.filter((id) => this.verdicts.get(id) === 'approve');
    const { rejected, undecided } = this.tally();
    if (ids.length > 0 && approved.length === ids.length) return { decision: { kind: 'approve' } };
    const [head, ...tail] = approved;
    if (head !== undefined) return { decision: { kind: 'approve_hunks', hunkIds: [head, ...tail] } };
    if (rejected > 0) return { decision: { kind: 'reject', reason: `all ${String(rejected)} reviewed hunks rejected in VS Code` } };
    return { problem: undecided ? 'Approve or reject at least one hunk, or request changes.' : 'The task changed nothing to review.' };
  }
}
