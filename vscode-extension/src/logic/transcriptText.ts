/** A transcript page rendered as Markdown for a read-only document. */

import type { Message, Task } from '../protocol';
import type { LiveEntry } from './transcriptLive';

function fence(text: string, lang = ''): string {
  // A fence longer than any backtick run inside keeps hostile content from closing it.
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${lang}\n${text}\n${ticks}`;
}

/**
 * The transcript of one attempt of a task, in order: the stored messages, then `live`
 * (what streamed since they were fetched; the last entry may still be being written).
 */
export function transcriptMarkdown(task: Task | undefined, taskId: number, messages: readonly Message[], more: boolean, live: readonly LiveEntry[] = []): string {
  const head = task ? `# ${task.title} (task #${taskId}, attempt ${task.attempt ?? 0})` : `# Task #${taskId}`;
  const parts = [head];
  if (!messages.length && !live.length) parts.push('_No messages yet._');
  for (const m of messages) {
    const who = m.name ? `${m.role} · ${m.name}` : m.role;
    parts.push(`## ${who}  \n<sub>${m.ts}</sub>`);
    if (m.content) parts.push(m.role === 'tool' ? fence(m.content) : m.content);
    for (const call of m.toolCalls ?? []) parts.push(fence(JSON.stringify(call, null, 2), 'json'));
  }
  for (const e of live) {
    parts.push(`## ${e.role}${e.id === undefined ? ' · writing…' : ''}`);
    if (e.text) parts.push(e.role === 'tool' ? fence(e.text.trim()) : e.text);
  }
  if (more) parts.push('_Older messages were left out; the transcript continues in the daemon._');
  return parts.join('\n\n') + '\n';
}
