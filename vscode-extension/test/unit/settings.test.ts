import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import DAEMON_KEYS from '../../src/logic/daemonKeys.json';
import { daemonSettings, initializationOptions, readSettings } from '../../src/logic/settings';

interface Prop {
  default: unknown;
}
const pkg = JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: { properties: Record<string, Prop> } };
};
const props = pkg.contributes.configuration.properties;
const fromPackage = (key: string): unknown => props[`bosun.${key}`]?.default;

test('defaults read from package.json give the documented settings', () => {
  const s = readSettings(fromPackage);
  assert.deepEqual(s, {
    command: '',
    python: '',
    requestTimeoutSeconds: 30,
    models: { default: null, roles: {} },
    workers: null,
    maxRetries: null,
    reviewGate: null,
    budget: { tokens: null, usd: null },
    sandbox: null,
  });
});

test('every declared setting is read by readSettings', () => {
  const read: string[] = [];
  readSettings((key) => {
    read.push(`bosun.${key}`);
    return undefined;
  });
  assert.deepEqual(read.sort(), Object.keys(props).sort());
});

test('with defaults the daemon gets no settings, so its config file decides', () => {
  assert.deepEqual(daemonSettings(readSettings(fromPackage)), {});
});

test('set values map onto the daemon config sections', () => {
  const values: Record<string, unknown> = {
    'models.default': 'openai:gpt-4.1',
    'models.roles': { coder: 'anthropic:claude', bad: 3 },
    workers: 3,
    maxRetries: 2,
    reviewGate: true,
    'budget.usd': 1.5,
    sandbox: 'none',
  };
  assert.deepEqual(daemonSettings(readSettings((k) => values[k])), {
    llm: { default_model: 'openai:gpt-4.1', roles: { coder: 'anthropic:claude' }, budget: { run_usd: 1.5 } },
    engine: { workers: 3, max_retries: 2, review_gate: true },
    tools: { sandbox: 'none' },
  });
});

test('values of the wrong type or range are treated as unset', () => {
  const values: Record<string, unknown> = { workers: 0, maxRetries: 2.5, reviewGate: 'yes', requestTimeoutSeconds: -1, 'budget.usd': -3 };
  const s = readSettings((k) => values[k]);
  assert.equal(s.workers, null);
  assert.equal(s.maxRetries, null);
  assert.equal(s.reviewGate, null);
  assert.equal(s.requestTimeoutSeconds, 30);
  assert.equal(s.budget.usd, null);
});

test('initializationOptions carries the protocol version, settings and API keys', () => {
  const opts = initializationOptions(readSettings((k) => (k === 'workers' ? 2 : undefined)), { openai: 'sk-test' }, '0.1.0', '9.9.9');
  assert.deepEqual(opts, {
    protocolVersion: '0.1.0',
    client: { name: 'bosun-vscode', version: '9.9.9' },
    settings: { engine: { workers: 2 } },
    apiKeys: { openai: 'sk-test' },
    richPrompts: true,
  });
});

test('every setting sent to the daemon is a declared setting', () => {
  for (const key of Object.keys(DAEMON_KEYS)) assert.ok(props[`bosun.${key}`], `bosun.${key} is not in package.json`);
});
