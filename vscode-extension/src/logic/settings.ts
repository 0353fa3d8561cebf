/** The extension's settings as one typed object, and what of them the daemon gets. */

import DAEMON_KEYS from './daemonKeys.json';

/** Mirrors `contributes.configuration` in package.json (a unit test keeps them equal). */
export interface BosunSettings {
  readonly command: string;
  readonly python: string;
  readonly requestTimeoutSeconds: number;
  readonly models: { readonly default: string | null; readonly roles: Readonly<Record<string, string>> };
  readonly workers: number | null;
  readonly maxRetries: number | null;
  readonly reviewGate: boolean | null;
  readonly budget: { readonly tokens: number | null; readonly usd: number | null };
  readonly sandbox: string | null;
}

/** Settings whose change needs a new daemon process rather than a notification. */
export const RESTART_KEYS: readonly string[] = ['bosun.command', 'bosun.python'];

type Get = (key: string) => unknown;

function str(get: Get, key: string, fallback: string): string {
  const v = get(key);
  return typeof v === 'string' ? v : fallback;
}

function intOrNull(get: Get, key: string, min: number, max: number): number | null {
  const v = get(key);
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : null;
}

function numOrNull(get: Get, key: string): number | null {
  const v = get(key);
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

function roles(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length > 0));
}

/**
 * Read and validate settings through `get(key)` (keys without the `bosun.` prefix).
 * A value of the wrong type counts as unset rather than reaching the daemon.
 */
export function readSettings(get: Get): BosunSettings {
  const timeout = get('requestTimeoutSeconds');
  const model = get('models.default');
  const gate = get('reviewGate');
  const sandbox = get('sandbox');
  return {
    command: str(get, 'command', '').trim(),
    python: str(get, 'python', '').trim(),
    requestTimeoutSeconds: typeof timeout === 'number' && timeout >= 1 && timeout <= 600 ? timeout : 30,
    models: { default: typeof model === 'string' && model.trim() ? model.trim() : null, roles: roles(get('models.roles')) },
    workers: intOrNull(get, 'workers', 1, 256),
    maxRetries: intOrNull(get, 'maxRetries', 0, 100),
    reviewGate: typeof gate === 'boolean' ? gate : null,
    budget: { tokens: intOrNull(get, 'budget.tokens', 0, Number.MAX_SAFE_INTEGER), usd: numOrNull(get, 'budget.usd') },
    sandbox: typeof sandbox === 'string' && sandbox ? sandbox : null,
  };
}

/**
 * The daemon's settings (`.bosun/config.toml` shape) for what the user set; unset values
 * are left out so the workspace's config file decides them. Where each setting lands is
 * in daemonKeys.json, which a daemon-side test checks against the daemon's config model.
 */
export function daemonSettings(s: BosunSettings): Record<string, unknown> {
  const values: Record<keyof typeof DAEMON_KEYS, unknown> = {
    'models.default': s.models.default,
    'models.roles': s.models.roles,
    workers: s.workers,
    maxRetries: s.maxRetries,
    reviewGate: s.reviewGate,
    'budget.tokens': s.budget.tokens,
    'budget.usd': s.budget.usd,
    sandbox: s.sandbox,
  };
  const out: Record<string, unknown> = {};
  for (const [key, path] of Object.entries(DAEMON_KEYS)) {
    const value = values[key as keyof typeof DAEMON_KEYS];
    if (value === null || value === undefined) continue;
    if (typeof value === 'object' && Object.keys(value).length === 0) continue;
    setPath(out, path.split('.'), value);
  }
  return out;
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (!rest.length) {
    target[head] = value;
    return;
  }
  const next = target[head];
  const child: Record<string, unknown> = next !== null && typeof next === 'object' ? (next as Record<string, unknown>) : {};
  target[head] = child;
  setPath(child, rest, value);
}

/** What the client sends as `initializationOptions`. API keys travel only here, in memory. */
export interface InitializationOptions {
  readonly protocolVersion: string;
  readonly client: { readonly name: string; readonly version: string };
  readonly settings: Record<string, unknown>;
  readonly apiKeys: Readonly<Record<string, string>>;
  /** This client draws prompts itself: the daemon must not also ask through showMessageRequest. */
  readonly richPrompts: true;
}

/** Build `initializationOptions` from settings and the stored API keys. */
export function initializationOptions(
  s: BosunSettings,
  apiKeys: Readonly<Record<string, string>>,
  protocolVersion: string,
  clientVersion: string,
): InitializationOptions {
  return {
    protocolVersion,
    client: { name: 'bosun-vscode', version: clientVersion },
    settings: daemonSettings(s),
    apiKeys: { ...apiKeys },
    richPrompts: true,
  };
}
