/** Small builders of protocol objects for the unit tests. */

import type { Run, Task } from '../../src/protocol';

const TS = '2026-01-01T00:00:00Z';

export function run(id: number, over: Partial<Run> = {}): Run {
  return { id, objective: `objective ${id}`, state: 'running', createdAt: TS, updatedAt: TS, ...over };
}

export function task(id: number, runId: number, over: Partial<Task> = {}): Task {
  return { id, runId, key: `t${id}`, title: `task ${id}`, createdAt: TS, updatedAt: TS, ...over };
}
