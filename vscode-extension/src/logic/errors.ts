/** Turning daemon and transport failures into sentences a person can act on. */

import { RequestTimeoutError } from './deadline';

// JSON-RPC / LSP codes the client treats specially (the full table is in PROTOCOL.md).
const METHOD_NOT_FOUND = -32601;
const SERVER_NOT_INITIALIZED = -32002;
const PROTOCOL_MISMATCH = -32061;

function codeOf(err: unknown): number | undefined {
  if (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

/** A one-line explanation of why `method` failed. */
export function describeError(method: string, err: unknown): string {
  if (err instanceof RequestTimeoutError) return err.message;
  const message = err instanceof Error ? err.message : String(err);
  switch (codeOf(err)) {
    case METHOD_NOT_FOUND:
      return `This bosun daemon does not support ${method} yet; update bosun.`;
    case SERVER_NOT_INITIALIZED:
      return 'The bosun daemon is still starting; try again in a moment.';
    case PROTOCOL_MISMATCH:
      return `${message} Install matching versions of bosun and the extension.`;
    default:
      return message;
  }
}

/** Compare protocol majors; returns the problem, or undefined when compatible. */
export function protocolProblem(client: string, daemon: string): string | undefined {
  const major = (v: string): string => v.split('.', 1)[0] ?? v;
  if (major(client) === major(daemon)) return undefined;
  return `The daemon speaks protocol ${daemon} but this extension speaks ${client}; install matching versions.`;
}
