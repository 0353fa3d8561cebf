import assert from 'node:assert/strict';
import { test } from 'node:test';

import { resolveLaunch, type LaunchHost } from '../../src/logic/launch';

function host(executables: string[], folders = ['/ws'], pathEnv = '/usr/bin:/opt/bin'): LaunchHost {
  const set = new Set(executables);
  return { workspaceFolders: folders, pathEnv, isExecutable: (f) => set.has(f) };
}
const none = { command: '', python: '' };

test("the workspace's .venv bosun wins over one on PATH", () => {
  const l = resolveLaunch(none, host(['/ws/.venv/bin/bosun', '/usr/bin/bosun']));
  assert.deepEqual(l, { ok: true, command: '/ws/.venv/bin/bosun', args: ['lsp'], cwd: '/ws' });
});

test('bosun on PATH is used when the workspace has no .venv', () => {
  const l = resolveLaunch(none, host(['/opt/bin/bosun']));
  assert.equal(l.ok && l.command, '/opt/bin/bosun');
});

test('a missing bosun says where it looked and how to fix it', () => {
  const l = resolveLaunch(none, host([]));
  assert.equal(l.ok, false);
  assert.ok(!l.ok);
  assert.match(l.message, /looked in \/ws\/\.venv\/bin, PATH/);
  assert.match(l.fix, /pip install/);
});

test('bosun.python starts the daemon as a module', () => {
  const l = resolveLaunch({ command: '/ignored', python: '${workspaceFolder}/env/bin/python' }, host(['/ws/env/bin/python']));
  assert.deepEqual(l, { ok: true, command: '/ws/env/bin/python', args: ['-m', 'bosun', 'lsp'], cwd: '/ws' });
});

test('a relative bosun.command resolves against the workspace folder', () => {
  const l = resolveLaunch({ command: 'tools/bosun', python: '' }, host(['/ws/tools/bosun']));
  assert.equal(l.ok && l.command, '/ws/tools/bosun');
});

test('a bosun.command that is not executable is refused with the setting named', () => {
  const l = resolveLaunch({ command: '/nope/bosun', python: '' }, host(['/usr/bin/bosun']));
  assert.ok(!l.ok);
  assert.match(l.message, /bosun\.command is "\/nope\/bosun"/);
});

test('a bare command name is looked up on PATH', () => {
  const l = resolveLaunch({ command: 'bosun-dev', python: '' }, host(['/opt/bin/bosun-dev']));
  assert.equal(l.ok && l.command, '/opt/bin/bosun-dev');
});
