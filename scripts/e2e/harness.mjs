// Shared pieces of the real-VS-Code runs: a scratch world, a git workspace, servers in
// their own process group, Chromium through playwright-core, and a cleanup that leaves
// no process behind. Run with Node 24 (see setup.sh); reads the env file setup.sh wrote.

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Values written by setup.sh (`KEY='value'` lines). */
export function readEnvFile(file) {
  const out = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\w+)='(.*)'$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** A scratch directory with its own HOME, TMPDIR and XDG dirs, and a unique run marker. */
export function scratch(prefix) {
  const root = mkdtempSync(join(tmpdir(), `${prefix}-`));
  for (const d of ['home', 'tmp', 'xdg-config', 'xdg-cache', 'ws']) mkdirSync(join(root, d), { recursive: true });
  const marker = randomUUID();
  const env = {
    ...process.env,
    HOME: join(root, 'home'),
    TMPDIR: join(root, 'tmp'),
    XDG_CONFIG_HOME: join(root, 'xdg-config'),
    XDG_CACHE_HOME: join(root, 'xdg-cache'),
    // Every process started from here inherits this; cleanup finds them by it.
    BOSUN_E2E_RUN: marker,
  };
  return { root, ws: join(root, 'ws'), env, marker };
}

/**
 * Make `dir` a git repository with one commit on main and the given VS Code settings
 * (and, when given, the text of the daemon's `.bosun/config.toml`). NOTES.md has twenty
 * lines so that a scenario editing two of them far apart makes a diff with two hunks.
 */
export function gitWorkspace(dir, settings, { bosunConfig } = {}) {
  const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'e2e@bosun.invalid');
  git('config', 'user.name', 'Bosun E2E');
  writeFileSync(join(dir, 'README.md'), '# Sample project\n\nA repository the end-to-end tests work on.\n');
  const notes = Array.from({ length: 20 }, (_, i) => `Line ${i + 1} of the notes.\n`).join('');
  writeFileSync(join(dir, 'NOTES.md'), notes);
  git('add', 'README.md', 'NOTES.md');
  git('commit', '-q', '-m', 'Initial commit');
  mkdirSync(join(dir, '.vscode'), { recursive: true });
  writeFileSync(join(dir, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
  if (bosunConfig) {
    mkdirSync(join(dir, '.bosun'), { recursive: true });
    writeFileSync(join(dir, '.bosun', 'config.toml'), bosunConfig);
  }
  // Keep the tree clean for the daemon: the editor settings are not part of the project.
  writeFileSync(join(dir, '.git', 'info', 'exclude'), '.vscode/\n.bosun/\n');
}

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Start `command` in its own process group (setsid) with output to `logFile`; resolves
 * when a line matches `ready`, rejects if it exits or `timeoutMs` passes first.
 */
export function startGroup(command, args, { env, logFile, ready, timeoutMs = 60_000 }) {
  const child = spawn(command, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  const write = (chunk) => {
    log.push(chunk.toString());
    writeFileSync(logFile, log.join(''));
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`not ready after ${timeoutMs} ms`)), timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      killGroup(child);
      reject(new Error(`${command}: ${err.message}; log: ${logFile}\n${log.join('').slice(-2000)}`));
    };
    const onData = (chunk) => {
      write(chunk);
      if (ready.test(log.join(''))) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', fail);
    child.once('exit', (code, signal) => fail(new Error(`exited (${signal ?? code}) before it was ready`)));
  });
}

/** SIGTERM the child's whole process group, then SIGKILL what is left after a grace period. */
export async function killGroup(child, graceMs = 3000) {
  if (!child?.pid) return;
  const alive = () => {
    try {
      process.kill(-child.pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Kill processes that carry this run's marker (e.g. a daemon that detached itself). */
export function sweep(marker) {
  const killed = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    let environ;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.split('\0').includes(`BOSUN_E2E_RUN=${marker}`)) continue;
    try {
      process.kill(Number(pid), 'SIGKILL');
      killed.push(Number(pid));
    } catch {
      // exited meanwhile
    }
  }
  return killed;
}

/** Launch Chromium through playwright-core with the flags that work offline here. */
export async function launchChromium(envFile, env) {
  const require = createRequire(import.meta.url);
  const { chromium } = require(envFile.BOSUN_E2E_PLAYWRIGHT);
  return chromium.launch({ executablePath: envFile.BOSUN_E2E_CHROMIUM, headless: true, args: CHROMIUM_ARGS, env });
}

/** Remove the scratch directory unless asked to keep it. */
export function cleanupScratch(root, keep) {
  if (keep) {
    console.error(`kept scratch directory ${root}`);
    return;
  }
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}
