/** `bosun-transcript:` documents: an attempt's conversation, refreshed as the task changes. */

import * as vscode from 'vscode';

import type { Daemon } from './daemon';
import { describeError } from './logic/errors';
import type { RunCache } from './logic/runCache';
import { transcriptMarkdown } from './logic/transcriptText';
import type { Message } from './protocol';

export const TRANSCRIPT_SCHEME = 'bosun-transcript';
const PAGE = 500;
const MAX_PAGES = 20;
const REDRAW_MS = 300;

/** The URI of a task's transcript (latest attempt when `attempt` is omitted). */
export function transcriptUri(taskId: number, attempt?: number): vscode.Uri {
  return vscode.Uri.from({ scheme: TRANSCRIPT_SCHEME, path: `/task-${taskId}.md`, query: attempt === undefined ? '' : `attempt=${attempt}` });
}

function parse(uri: vscode.Uri): { taskId: number; attempt: number | undefined } {
  const taskId = Number(/task-(\d+)/.exec(uri.path)?.[1] ?? NaN);
  const attempt = /attempt=(\d+)/.exec(uri.query)?.[1];
  return { taskId, attempt: attempt === undefined ? undefined : Number(attempt) };
}

/** Serves transcripts from `bosun/transcript`. */
export class TranscriptProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly open = new Set<string>();
  private readonly pending = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly daemon: Daemon,
    private readonly cache: RunCache,
  ) {}

  /**
   * Redraw the open transcripts of a task (called when it changes). Deltas arrive many
   * times a second while an agent writes: coalesce them into one refetch per interval.
   */
  taskChanged(taskId: number): void {
    if (this.pending.has(taskId)) return;
    this.pending.set(
      taskId,
      setTimeout(() => {
        this.pending.delete(taskId);
        this.redraw(taskId);
      }, REDRAW_MS),
    );
  }

  private redraw(taskId: number): void {
    for (const key of this.open) {
      const uri = vscode.Uri.parse(key);
      if (parse(uri).taskId === taskId) this.changed.fire(uri);
    }
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    this.open.add(uri.toString());
    const { taskId, attempt } = parse(uri);
    if (!Number.isInteger(taskId)) return `Not a transcript address: ${uri.toString()}\n`;
    const messages: Message[] = [];
    let more = false;
    try {
      for (let page = 0, after = 0; page < MAX_PAGES; page++) {
        const res = await this.daemon.request('bosun/transcript', { taskId, limit: PAGE, afterId: after, ...(attempt === undefined ? {} : { attempt }) });
        messages.push(...res.messages);
        more = res.more;
        const last = res.messages[res.messages.length - 1];
        if (!more || !last) break;
        after = last.id;
      }
    } catch (err) {
      return `Could not load the transcript of task #${taskId}: ${describeError('bosun/transcript', err)}\n`;
    }
    return transcriptMarkdown(this.cache.task(taskId), taskId, messages, more);
  }

  dispose(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.changed.dispose();
  }
}
