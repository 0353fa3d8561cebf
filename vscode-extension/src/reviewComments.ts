/**
 * Review comments through VS Code's comments API: on the head side of a review diff the
 * reviewer writes comments on lines (the + in the gutter); **Request changes** sends them,
 * each with its file and line, as the task's `request_changes` decision.
 */

import * as vscode from 'vscode';

import { GIT_SCHEME, parseGitUri, type Reviews } from './review';

export const COMMENT_CONTROLLER = 'bosun.review';

/** One comment as the comments UI shows it; `noteId` is its id in the review state. */
class LineNote implements vscode.Comment {
  readonly mode = vscode.CommentMode.Preview;
  readonly author = { name: 'You' };
  readonly contextValue = 'bosun-comment';

  constructor(
    readonly body: string,
    readonly label: string,
    readonly noteId: number,
    readonly taskId: number,
    readonly thread: vscode.CommentThread,
  ) {}
}

/** Where a comment thread sits: its task, file and 1-based line as git counts lines. */
function anchor(thread: vscode.CommentThread, reviews: Reviews): { taskId: number; path: string; line: number } | undefined {
  if (thread.uri.scheme !== GIT_SCHEME) return undefined;
  const { taskId, path, side } = parseGitUri(thread.uri);
  // `range` is optional in newer typings; a thread without one has no line to name.
  const range = thread.range as vscode.Range | undefined;
  if (side !== 'head' || !range) return undefined;
  return { taskId, path, line: reviews.gitLineOf(thread.uri, range.start.line) + 1 };
}

/** The comment controller of reviews and the commands of its reply box. */
export class ReviewComments implements vscode.Disposable {
  readonly controller: vscode.CommentController;
  private readonly threads = new Map<number, Set<vscode.CommentThread>>();

  constructor(private readonly reviews: Reviews) {
    this.controller = vscode.comments.createCommentController(COMMENT_CONTROLLER, 'Bosun review');
    this.controller.options = { prompt: 'Comment on this line', placeHolder: 'What should change here? (sent with Request changes)' };
    this.controller.commentingRangeProvider = {
      provideCommentingRanges: (doc) => {
        if (doc.uri.scheme !== GIT_SCHEME) return [];
        const { taskId, path, side } = parseGitUri(doc.uri);
        if (side !== 'head' || !this.reviews.state(taskId)?.file(path)) return [];
        return [new vscode.Range(0, 0, Math.max(doc.lineCount - 1, 0), 0)];
      },
    };
  }

  /** A thread on a line of a review document (what the gutter's + makes; the suite uses it). */
  thread(uri: vscode.Uri, line: number): vscode.CommentThread {
    return this.controller.createCommentThread(uri, new vscode.Range(line - 1, 0, line - 1, 0), []);
  }

  /** Add the reply box's text as a comment on the thread's line; false when it was not kept. */
  add(reply: vscode.CommentReply): boolean {
    const thread = reply.thread;
    const at = anchor(thread, this.reviews);
    const state = at ? this.reviews.state(at.taskId) : undefined;
    const id = at && state ? state.commentLine(at.path, at.line, reply.text) : undefined;
    if (!at || id === undefined) return false;
    thread.comments = [...thread.comments, new LineNote(reply.text.trim(), `line ${String(at.line)}`, id, at.taskId, thread)];
    thread.label = 'Review comment: sent with Request changes';
    thread.canReply = true;
    let mine = this.threads.get(at.taskId);
    if (!mine) this.threads.set(at.taskId, (mine = new Set()));
    mine.add(thread);
    this.reviews.refresh();
    return true;
  }

  /** Take a comment back. */
  remove(note: LineNote): void {
    this.reviews.state(note.taskId)?.removeComment(note.noteId);
    note.thread.comments = note.thread.comments.filter((c) => c !== note);
    if (!note.thread.comments.length) {
      this.threads.get(note.taskId)?.delete(note.thread);
      note.thread.dispose();
    }
    this.reviews.refresh();
  }

  /**
   * **Request changes** from a lens (task id), a thread's title bar (thread), or the reply
   * box (reply: its text is added first). True when the daemon took the decision.
   */
  async requestChanges(target: number | vscode.CommentThread | vscode.CommentReply | undefined): Promise<boolean> {
    let taskId: number | undefined;
    if (typeof target === 'number') taskId = target;
    else if (target && 'thread' in target) {
      if (target.text.trim()) this.add(target);
      taskId = anchor(target.thread, this.reviews)?.taskId;
    } else if (target) taskId = anchor(target, this.reviews)?.taskId;
    return taskId === undefined ? false : this.reviews.requestChanges(taskId);
  }

  /** Remove a review's threads (it was sent). */
  private clear(taskId: number): void {
    for (const thread of this.threads.get(taskId) ?? []) thread.dispose();
    this.threads.delete(taskId);
  }

  /** The reply-box and comment commands, and clearing threads when a review ends. */
  register(): vscode.Disposable[] {
    return [
      new vscode.Disposable(() => {
        this.dispose();
      }),
      this.reviews.onDidEnd((taskId) => {
        this.clear(taskId);
      }),
      vscode.commands.registerCommand('bosun.review.addComment', (reply: vscode.CommentReply) => this.add(reply)),
      vscode.commands.registerCommand('bosun.review.deleteComment', (note: LineNote) => {
        this.remove(note);
      }),
      vscode.commands.registerCommand('bosun.review.requestChanges', (target?: number | vscode.CommentThread | vscode.CommentReply) => this.requestChanges(target)),
    ];
  }

  dispose(): void {
    for (const id of [...this.threads.keys()]) this.clear(id);
    this.controller.dispose();
  }
}
