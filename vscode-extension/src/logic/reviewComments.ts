/** Comments written on lines of a review diff, and the "request changes" comments they make. */

import type { FileDiff, ReviewComment } from '../protocol';
import { hunkAtNewLine } from './hunks';

/** A reviewer's comment on one line of the head side of a file (1-based line). */
export interface LineComment {
  readonly id: number;
  readonly path: string;
  readonly line: number;
  readonly body: string;
}

/**
 * The wire comments for `bosun/reviewTask`, in file and line order, each with its path,
 * line and (when the line is inside one) hunk: the daemon shows the next attempt
 * `<path>:<line>: <body>`.
 */
export function toReviewComments(comments: readonly LineComment[], fileOf: (path: string) => FileDiff | undefined): ReviewComment[] {
  return [...comments]
    .filter((c) => c.body.trim() !== '')
    .sort((a, b) => (a.path === b.path ? a.line - b.line || a.id - b.id : a.path < b.path ? -1 : 1))
    .map((c) => {
      const hunks = fileOf(c.path)?.hunks ?? [];
      const index = hunkAtNewLine(hunks, c.line);
      const hunkId = index === undefined ? undefined : hunks[index]?.id;
      return { body: c.body.trim(), path: c.path, line: c.line, ...(hunkId ? { hunkId } : {}) };
    });
}
