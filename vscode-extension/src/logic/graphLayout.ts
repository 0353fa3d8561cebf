/** Positions for the task graph: layers by dependency depth, edges from dependency to dependent. */

import type { Task } from '../protocol';
import { taskState, taskStyle } from './stateStyle';

/** One drawn task. */
export interface GraphNode {
  readonly id: number;
  readonly key: string;
  readonly label: string;
  readonly state: string;
  /** A theme colour id (`charts.green`); the webview maps it to a CSS variable. */
  readonly color: string;
  readonly x: number;
  readonly y: number;
}

/** One drawn dependency: `to` waits for `from`. */
export interface GraphEdge {
  readonly from: number;
  readonly to: number;
}

/** What the webview draws. */
export interface GraphModel {
  readonly runId: number;
  readonly width: number;
  readonly height: number;
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export const NODE_W = 220;
export const NODE_H = 44;
const GAP_X = 70;
const GAP_Y = 24;
const MARGIN = 20;
const LABEL_MAX = 26;

/** Depth of each task: 0 without dependencies, else one more than its deepest dependency. */
export function layers(tasks: readonly Task[]): Map<number, number> {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const depth = new Map<number, number>();
  const visiting = new Set<number>();
  const visit = (id: number): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    // A cycle never comes from the daemon; cut it here rather than recurse for ever.
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const deps = (byId.get(id)?.dependencies ?? []).filter((d) => byId.has(d));
    const d = deps.length ? Math.max(...deps.map(visit)) + 1 : 0;
    visiting.delete(id);
    depth.set(id, d);
    return d;
  };
  for (const t of tasks) visit(t.id);
  return depth;
}

/** Lay out a run's tasks left to right by depth, top to bottom by id. */
export function graphModel(runId: number, tasks: readonly Task[]): GraphModel {
  const depth = layers(tasks);
  const columns = new Map<number, Task[]>();
  for (const t of [...tasks].sort((a, b) => a.id - b.id)) {
    const d = depth.get(t.id) ?? 0;
    columns.set(d, [...(columns.get(d) ?? []), t]);
  }
  const nodes: GraphNode[] = [];
  for (const [d, column] of columns) {
    column.forEach((t, row) => {
      const label = t.title.length > LABEL_MAX ? `${t.title.slice(0, LABEL_MAX - 1)}…` : t.title;
      nodes.push({
        id: t.id,
        key: t.key,
        label,
        state: taskState(t),
        color: taskStyle(t).color ?? 'foreground',
        x: MARGIN + d * (NODE_W + GAP_X),
        y: MARGIN + row * (NODE_H + GAP_Y),
      });
    });
  }
  const ids = new Set(tasks.map((t) => t.id));
  const edges = tasks.flatMap((t) => (t.dependencies ?? []).filter((d) => ids.has(d)).map((d) => ({ from: d, to: t.id })));
  const cols = Math.max(columns.size, 1);
  const rows = Math.max(1, ...[...columns.values()].map((c) => c.length));
  return {
    runId,
    width: 2 * MARGIN + cols * NODE_W + (cols - 1) * GAP_X,
    height: 2 * MARGIN + rows * NODE_H + (rows - 1) * GAP_Y,
    nodes,
    edges,
  };
}

/** What a link-mode click pair asks for: add the dependency, or remove it if present. */
export function linkChange(tasks: readonly Task[], from: number, to: number): { add: boolean } | { problem: string } {
  if (from === to) return { problem: 'A task cannot depend on itself.' };
  const target = tasks.find((t) => t.id === to);
  if (!target || !tasks.some((t) => t.id === from)) return { problem: 'Both tasks must belong to this run.' };
  return { add: !(target.dependencies ?? []).includes(from) };
}
