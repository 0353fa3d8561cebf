/** Short texts shown next to runs and tasks: cost, attempts, progress. */

import type { Cost, Task } from '../protocol';
import { isTaskDone } from './stateStyle';

/** `$0.0123` / `$1.20`; `12k tok` when the price is unknown; '' when nothing was spent. */
export function formatCost(cost: Cost | undefined): string {
  if (!cost) return '';
  const tokens = (cost.inputTokens ?? 0) + (cost.outputTokens ?? 0);
  if (cost.usd === null || cost.usd === undefined) return tokens ? `${formatTokens(tokens)} tok` : '';
  if (cost.usd === 0) return tokens ? `${formatTokens(tokens)} tok` : '';
  return cost.usd < 1 ? `$${cost.usd.toFixed(4)}` : `$${cost.usd.toFixed(2)}`;
}

function formatTokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

/** `attempt 2/5` (first try plus retries); '' before the first attempt. */
export function formatAttempt(task: Task): string {
  const attempt = task.attempt ?? 0;
  if (attempt <= 0) return '';
  return `attempt ${attempt}/${(task.maxRetries ?? 4) + 1}`;
}

/** Done and total task counts. */
export function progress(tasks: readonly Task[]): { done: number; total: number } {
  return { done: tasks.filter(isTaskDone).length, total: tasks.length };
}

/** Join the non-empty parts with a middle dot. */
export function joinParts(parts: readonly string[]): string {
  return parts.filter((p) => p.length > 0).join(' · ');
}
