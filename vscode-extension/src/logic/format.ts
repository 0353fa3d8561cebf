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

/** `62% from cache` (input read from the provider's prompt cache); `4.0k tok reasoning`
 * (a reasoning model's thinking, part of the output); `~3k tok estimated` when the
 * provider reported no usage for some calls; '' when none applies. */
export function formatCacheAndEstimate(cost: Cost | undefined): string {
  if (!cost) return '';
  const input = cost.inputTokens ?? 0;
  const cached = cost.cachedTokens ?? 0;
  const estimated = cost.estimatedTokens ?? 0;
  const reasoning = cost.reasoningTokens ?? 0;
  const parts = [
    input > 0 && cached > 0 ? `${Math.round((100 * cached) / input)}% from cache` : '',
    reasoning > 0 ? `${formatTokens(reasoning)} tok reasoning` : '',
    estimated > 0 ? `~${formatTokens(estimated)} tok estimated` : '',
  ];
  return parts.filter((p) => p.length > 0).join(', ');
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
