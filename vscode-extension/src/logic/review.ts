/** A review in progress: the task's diff, a verdict per hunk, comments, and the decision they make. */

import type { FileDiff, ReviewComment, ReviewTaskParams, TaskDiffResult } from '../protocol';
import { toReviewComments, type LineComment } from './reviewComments';

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
  private readonly lineNotes = new Map<number, LineComment>();
  private nextNote = 1;

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

  /** Add a comment on a 1-based line of a file's head side; returns its id (to remove it). */
  commentLine(path: string, line: number, body: string): number | undefined {
    if (!body.trim() || !this.file(path)) return undefined;
    const id = this.nextNote++;
    this.lineNotes.set(id, { id, path, line, body: body.trim() });
    return id;
  }

  /** Take back a line comment. */
  removeComment(id: number): void {
    this.lineNotes.delete(id);
  }

  /** Comments so far: line comments in file and line order, then the others. */
  comments(): readonly ReviewComment[] {
    return [...toReviewComments([...this.lineNotes.values()], (p) => this.file(p)), ...this.notes];
  }

  /** "Request changes" with every comment, or why it cannot be sent yet. */
  requestChanges(): { decision: ReviewTaskParams['decision'] } | { problem: string } {
    const [first, ...rest] = this.comments();
    if (!first) return { problem: 'Write a comment on a line of the diff first (the + in the gutter of the right side).' };
    return { decision: { kind: 'request_changes', comments: [first, ...rest] } };
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
    const changes = this.requestChanges();
    if ('decision' in changes) return changes;
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
