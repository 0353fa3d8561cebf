/**
 * One open transcript kept current from `bosun/transcriptDelta`: a page fetched on open,
 * then deltas appended as they arrive. Each delta carries `seq`, counted per attempt
 * (1, 2, 3…): one already applied is a duplicate, one past the next expected means a
 * delta was lost. What cannot be rebuilt from deltas is a gap and asks for a refetch: a
 * lost delta, a new attempt (its first messages were never streamed), or a lost
 * connection.
 *
 * A delta with a `messageId` marks the message stored (its text is often empty): the text
 * streamed for it stands in until the stored message itself is fetched (`catchUpFrom`,
 * `catchUp`, only the messages after the page's last) and replaces it — with or without
 * streamed text, as the stored message is what the transcript keeps (redacted, its tool
 * calls whole).
 */

import type { Message, TranscriptDelta } from '../protocol';

/** A message known only from deltas: its text as streamed, with its id once stored. */
export interface LiveEntry {
  readonly id?: number;
  readonly role: string;
  readonly text: string;
}

/** What a delta did to the transcript. */
export type DeltaOutcome = 'appended' | 'buffered' | 'duplicate' | 'stale' | 'refetch';

export class LiveTranscript {
  private stored: Message[] = [];
  private live: LiveEntry[] = [];
  private pending: { role: string; text: string } = { role: 'assistant', text: '' };
  private lastId = 0;
  private shown: number | undefined;
  private loading = false;
  private buffer: TranscriptDelta[] = [];
  private stale = true;
  private truncated = false;
  // The seq of the last delta applied; undefined right after a fetch, when the page says
  // nothing about which deltas it covers, so the first one after it sets the count.
  private lastSeq: number | undefined;
  // Bumped by every page load: a catch-up fetched before the newest load is dropped.
  private generation = 0;

  /** `pinned`: an attempt chosen by the URI; otherwise the task's latest attempt is shown. */
  constructor(
    readonly taskId: number,
    readonly pinned?: number,
  ) {}

  /** True until a page is loaded, and again after a gap. */
  get needsFetch(): boolean {
    return this.stale;
  }

  /** The attempt on screen, once known. */
  get attempt(): number | undefined {
    return this.shown;
  }

  /** Mark a gap: the next render fetches the transcript again. */
  invalidate(): void {
    this.stale = true;
  }

  /** A fetch is about to start: deltas from now on are held until `load`. */
  beginLoad(): void {
    this.loading = true;
    this.buffer = [];
  }

  /** The fetch failed: deltas held meanwhile are dropped with it, the next render retries. */
  failLoad(): void {
    this.loading = false;
    this.buffer = [];
    this.stale = true;
  }

  /**
   * The fetched messages of `attempt` (older ones left out when `more`). Deltas that
   * arrived during the fetch are replayed: those of messages the page already has are
   * duplicates and fall away.
   */
  load(messages: readonly Message[], more: boolean, attempt: number | undefined): void {
    this.stored = [...messages];
    this.truncated = more;
    this.live = [];
    this.pending = { role: 'assistant', text: '' };
    this.lastId = messages.reduce((m, x) => Math.max(m, x.id), 0);
    this.lastSeq = undefined;
    this.shown = this.pinned ?? messages[0]?.attempt ?? attempt;
    this.generation++;
    this.loading = false;
    this.stale = false;
    const held = this.buffer;
    this.buffer = [];
    for (const d of held) this.apply(d);
  }

  /** The task moved on to `attempt`: a view of the latest attempt must start over. */
  attemptChanged(attempt: number): boolean {
    if (this.pinned !== undefined || this.shown === undefined || attempt <= this.shown) return false;
    this.stale = true;
    return true;
  }

  /** Merge one delta of this task. */
  apply(d: TranscriptDelta): DeltaOutcome {
    if (d.taskId !== this.taskId) return 'stale';
    if (this.loading) {
      this.buffer.push(d);
      return 'buffered';
    }
    if (this.stale) return 'refetch';
    if (this.pinned !== undefined && d.attempt !== this.pinned) return 'stale';
    if (this.shown !== undefined && d.attempt < this.shown) return 'stale';
    if (this.shown === undefined || d.attempt > this.shown) return this.gap();
    const order = this.inOrder(d.seq);
    if (order === 'refetch') return this.gap();
    if (order === 'duplicate') return 'duplicate';
    const role = d.role ?? 'assistant';
    const id = d.messageId ?? undefined;
    if (id === undefined) {
      if (this.pending.text && this.pending.role !== role) this.live.push({ ...this.pending });
      this.pending = { role, text: (this.pending.role === role ? this.pending.text : '') + d.delta };
      return 'appended';
    }
    if (id <= this.lastId) {
      // The page already holds this message: the text streamed for it is in there too.
      this.pending = { role: 'assistant', text: '' };
      return 'duplicate';
    }
    // The marker: what streamed for this message (if anything) shows until it is fetched.
    const text = (this.pending.role === role ? this.pending.text : '') + d.delta;
    if (this.pending.text && this.pending.role !== role) this.live.push({ ...this.pending });
    this.live.push({ id, role, text });
    this.pending = { role: 'assistant', text: '' };
    this.lastId = id;
    return 'appended';
  }

  /**
   * Stored messages to fetch: those after this id (the page's last) replace what streamed
   * for them. Undefined when none is due, or a whole fetch is due or under way instead.
   */
  get catchUpFrom(): { afterId: number; attempt: number; generation: number } | undefined {
    if (this.stale || this.loading || this.truncated || this.shown === undefined) return undefined;
    if (!this.live.some((e) => e.id !== undefined)) return undefined;
    return { afterId: this.lastStoredId(), attempt: this.shown, generation: this.generation };
  }

  /**
   * Stored messages fetched for `catchUpFrom` (of that `generation`): each replaces the
   * live entry with its id, and the streamed text before it (all of it is in the stored
   * messages). Entries streamed after the last of them stay. False when dropped (a page
   * was loaded since) or when there was nothing new.
   */
  catchUp(generation: number, messages: readonly Message[]): boolean {
    if (generation !== this.generation || this.stale || this.loading) return false;
    const last = this.lastStoredId();
    const fresh = messages.filter((m) => m.id > last && m.attempt === this.shown);
    if (!fresh.length) return false;
    const upTo = fresh.reduce((m, x) => Math.max(m, x.id), 0);
    let replaced = -1;
    this.live.forEach((e, i) => {
      if (e.id !== undefined && e.id <= upTo) replaced = i;
    });
    this.stored = [...this.stored, ...fresh];
    this.live = this.live.slice(replaced + 1);
    this.lastId = Math.max(this.lastId, upTo);
    return true;
  }

  private lastStoredId(): number {
    return this.stored.reduce((m, x) => Math.max(m, x.id), 0);
  }

  /** Whether `seq` is the next delta of the attempt on screen; records it when it is. */
  private inOrder(seq: number | undefined): 'next' | 'duplicate' | 'refetch' {
    // A daemon older than `seq` sends none (or 0): merge as before, by message ids only.
    if (!seq) return 'next';
    if (this.lastSeq !== undefined && seq <= this.lastSeq) return 'duplicate';
    if (this.lastSeq !== undefined && seq > this.lastSeq + 1) return 'refetch';
    this.lastSeq = seq;
    return 'next';
  }

  private gap(): DeltaOutcome {
    this.stale = true;
    return 'refetch';
  }

  /** What to draw: the fetched page, then the messages and text streamed since. */
  view(): { messages: readonly Message[]; more: boolean; live: readonly LiveEntry[] } {
    const live = this.pending.text ? [...this.live, { ...this.pending }] : this.live;
    return { messages: this.stored, more: this.truncated, live };
  }
}
