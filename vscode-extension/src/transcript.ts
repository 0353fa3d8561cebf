/**
 * `bosun-transcript:` documents: an attempt's conversation, fetched once when opened and
 * then drawn live from `bosun/transcriptDelta` (see logic/transcriptLive.ts for when a
 * gap makes it fetch again). A message's "stored" marker fetches just the new stored
 * messages, which replace the text streamed for them.
 */

import * as vscode from 'vscode';

import type { Daemon } from './daemon';
import { describeError } from './logic/errors';
import type { RunCache } from './logic/runCache';
import { OneAtATime } from './logic/oneAtATime';
import { LiveTranscript } from './logic/transcriptLive';
import { transcriptMarkdown } from './logic/transcriptText';
import type { Message, TranscriptDelta } from './protocol';

export const TRANSCRIPT_SCHEME = 'bosun-transcript';
const PAGE = 500;
const MAX_PAGES = 20;
// Deltas arrive many times a second while an agent writes: one redraw per interval.
const REDRAW_MS = 150;

/** The URI of a task's transcript (latest attempt when `attempt` is omitted). */
export function transcriptUri(taskId: number, attempt?: number): vscode.Uri {
  return vscode.Uri.from({ scheme: TRANSCRIPT_SCHEME, path: `/task-${taskId}.md`, query: attempt === undefined ? '' : `attempt=${attempt}` });
}

function parse(uri: vscode.Uri): { taskId: number; attempt: number | undefined } {
  const taskId = Number(/task-(\d+)/.exec(uri.path)?.[1] ?? NaN);
  const attempt = /attempt=(\d+)/.exec(uri.query)?.[1];
  return { taskId, attempt: attempt === undefined ? undefined : Number(attempt) };
}

/** One open document: its live state and the fetch in flight, if any. */
interface OpenTranscript {
  readonly uri: vscode.Uri;
  readonly live: LiveTranscript;
  loading?: Promise<string | undefined>;
  readonly catchingUp: OneAtATime;
}

/** Serves transcripts: `bosun/transcript` on open and after a gap, deltas otherwise. */
export class TranscriptProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly open = new Map<string, OpenTranscript>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly closed: vscode.Disposable;
  /** How many times `bosun/transcript` was asked for a first page (the suite reads it). */
  fetches = 0;
  /** Deltas merged into an open transcript without a fetch (the suite reads it). */
  applied = 0;
  /** Fetches of stored messages announced by markers, not whole transcripts. */
  catchUps = 0;

  constructor(
    private readonly daemon: Daemon,
    private readonly cache: RunCache,
  ) {
    this.closed = vscode.workspace.onDidCloseTextDocument((doc) => {
      this.open.delete(doc.uri.toString());
    });
  }

  /** A delta: merged into every open transcript of its task, redrawn shortly after. */
  onDelta(delta: TranscriptDelta): void {
    for (const t of this.open.values()) {
      if (t.live.taskId !== delta.taskId) continue;
      const outcome = t.live.apply(delta);
      if (outcome === 'appended') this.applied++;
      if (outcome === 'appended' || outcome === 'refetch') this.redrawSoon(t.uri);
      if (outcome === 'appended' && (delta.messageId ?? undefined) !== undefined) this.catchUpSoon(t);
    }
  }

  private opened(uri: vscode.Uri, live: LiveTranscript): OpenTranscript {
    const t: OpenTranscript = { uri, live, catchingUp: new OneAtATime(() => this.catchUp(t)) };
    return t;
  }

  /** Fetch the stored messages markers announced: one fetch at a time per document, and
   * markers that come during one are caught up by the next. */
  private catchUpSoon(t: OpenTranscript): void {
    t.catchingUp.request();
  }

  private async catchUp(t: OpenTranscript): Promise<void> {
    const from = t.live.catchUpFrom;
    if (!from || !this.open.has(t.uri.toString())) return;
    this.catchUps++;
    let messages: Message[];
    try {
      const res = await this.daemon.request('bosun/transcript', { taskId: t.live.taskId, attempt: from.attempt, afterId: from.afterId, limit: PAGE });
      messages = res.messages;
    } catch {
      t.live.invalidate(); // the next render fetches the whole transcript instead
      this.redrawSoon(t.uri);
      return;
    }
    if (t.live.catchUp(from.generation, messages)) this.redrawSoon(t.uri);
  }

  /** The task changed: redraw its header, and start over when a new attempt began. */
  taskChanged(taskId: number): void {
    const attempt = this.cache.task(taskId)?.attempt;
    for (const t of this.open.values()) {
      if (t.live.taskId !== taskId) continue;
      if (attempt !== undefined) t.live.attemptChanged(attempt);
      this.redrawSoon(t.uri);
    }
  }

  /** The connection was (re)made: deltas may have been lost meanwhile. */
  reconnected(): void {
    for (const t of this.open.values()) {
      t.live.invalidate();
      this.redrawSoon(t.uri);
    }
  }

  private redrawSoon(uri: vscode.Uri): void {
    const key = uri.toString();
    if (this.pending.has(key)) return;
    this.pending.set(
      key,
      setTimeout(() => {
        this.pending.delete(key);
        if (this.open.has(key)) this.changed.fire(uri);
      }, REDRAW_MS),
    );
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const { taskId, attempt } = parse(uri);
    if (!Number.isInteger(taskId)) return `Not a transcript address: ${uri.toString()}\n`;
    const key = uri.toString();
    const t = this.open.get(key) ?? this.opened(uri, new LiveTranscript(taskId, attempt));
    this.open.set(key, t);
    if (t.live.needsFetch) {
      t.loading ??= this.load(t).finally(() => {
        t.loading = undefined;
      });
      const problem = await t.loading;
      if (problem) return problem;
      this.catchUpSoon(t); // markers held during the fetch, of messages it did not have
    }
    const { messages, more, live } = t.live.view();
    return transcriptMarkdown(this.cache.task(taskId), taskId, messages, more, live);
  }

  /** Fetch the transcript's pages; a message when it failed. */
  private async load(t: OpenTranscript): Promise<string | undefined> {
    const { taskId, pinned } = t.live;
    t.live.beginLoad();
    this.fetches++;
    const messages: Message[] = [];
    let more = false;
    try {
      for (let page = 0, after = 0; page < MAX_PAGES; page++) {
        const res = await this.daemon.request('bosun/transcript', { taskId, limit: PAGE, afterId: after, ...(pinned === undefined ? {} : { attempt: pinned }) });
        messages.push(...res.messages);
        more = res.more;
        const last = res.messages[res.messages.length - 1];
        if (!more || !last) break;
        after = last.id;
      }
    } catch (err) {
      t.live.failLoad();
      return `Could not load the transcript of task #${taskId}: ${describeError('bosun/transcript', err)}\n`;
    }
    t.live.load(messages, more, this.cache.task(taskId)?.attempt);
    return undefined;
  }

  dispose(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.closed.dispose();
    this.changed.dispose();
  }
}
