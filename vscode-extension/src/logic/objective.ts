/** The "start an objective" choices and the createRun params they make. */

import type { CreateRunParams, RunOptions } from '../protocol';
import type { BosunSettings } from './settings';

/** One entry of the options quick pick. */
export interface OptionItem {
  readonly id: 'review' | 'serial' | 'model';
  readonly label: string;
  readonly detail: string;
  readonly picked: boolean;
}

/** The choices offered after the objective is typed, preset from settings. */
export function optionItems(s: BosunSettings): OptionItem[] {
  return [
    { id: 'review', label: 'Review gate', detail: 'Hold each task for your review before it is merged', picked: s.reviewGate === true },
    { id: 'serial', label: 'One worker', detail: 'Run tasks one at a time instead of in parallel', picked: s.workers === 1 },
    { id: 'model', label: 'Choose the model…', detail: `Default: ${s.models.default ?? "the daemon's config"}`, picked: false },
  ];
}

/** A usable objective, or the reason it is not. */
export function validateObjective(text: string): string | undefined {
  const t = text.trim();
  if (!t) return 'Describe what should be done.';
  if (t.length > 100_000) return 'The objective is longer than 100,000 characters.';
  return undefined;
}

/** createRun params from the objective, the picked option ids and an optional model. */
export function createRunParams(objective: string, picked: ReadonlySet<string>, s: BosunSettings, model?: string): CreateRunParams {
  const options: RunOptions = {};
  if (picked.has('review')) options.reviewGate = true;
  else if (s.reviewGate !== null) options.reviewGate = false;
  if (picked.has('serial')) options.workers = 1;
  else if (s.workers !== null) options.workers = s.workers;
  const chosen = model?.trim() || s.models.default;
  if (chosen) options.model = chosen;
  if (Object.keys(s.models.roles).length) options.models = { ...s.models.roles };
  if (s.maxRetries !== null) options.maxRetries = s.maxRetries;
  if (s.budget.tokens !== null) options.budgetTokens = s.budget.tokens;
  if (s.budget.usd !== null) options.budgetUsd = s.budget.usd;
  return { objective: objective.trim(), options };
}
