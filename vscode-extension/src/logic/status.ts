/** What the status bar item says: connection, the active run's progress and cost. */

import type { Run, Task } from '../protocol';
import { formatCost, joinParts, progress } from './format';
import { isRunFinished, runStyle } from './stateStyle';

/** The daemon connection as the user sees it. */
export type ConnectionState = 'starting' | 'connected' | 'disconnected' | 'failed';

/** Text and tooltip of the status bar item. */
export interface StatusModel {
  readonly text: string;
  readonly tooltip: string;
  readonly runId: number | undefined;
}

/** The newest run still going on, if any. */
export function activeRun(runs: readonly Run[]): Run | undefined {
  return [...runs].sort((a, b) => b.id - a.id).find((r) => !isRunFinished(r));
}

/** Status bar content for a connection state and the known runs. */
export function statusModel(
  connection: ConnectionState,
  runs: readonly Run[],
  tasksOf: (runId: number) => readonly Task[],
  problem?: string,
): StatusModel {
  if (connection === 'starting') return { text: '$(loading~spin) Bosun', tooltip: 'Starting the Bosun daemon…', runId: undefined };
  if (connection === 'failed' || connection === 'disconnected') {
    const why = problem ?? (connection === 'failed' ? 'the daemon could not be started' : 'the daemon is not connected');
    return { text: '$(error) Bosun', tooltip: `Bosun: ${why}. Click to open the log.`, runId: undefined };
  }
  const run = activeRun(runs);
  if (!run) return { text: '$(rocket) Bosun', tooltip: 'Bosun: no active run. Click to open the Runs view.', runId: undefined };
  const { done, total } = progress(tasksOf(run.id));
  const style = runStyle(run);
  return {
    text: `$(${style.icon}) Bosun #${run.id} ${joinParts([total ? `${done}/${total}` : style.label, formatCost(run.cost)])}`,
    tooltip: `Run #${run.id} (${style.label}): ${run.objective}`,
    runId: run.id,
  };
}
