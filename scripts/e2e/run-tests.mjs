// Run the extension's suite inside a real VS Code extension host against the real daemon.
//
//   node24 scripts/e2e/run-tests.mjs --env ENV_FILE --ext DIR --bosun PATH [--keep] [--only TEXT]
//
// Starts the VS Code server bundled with code-server (smoke-test driver on) in its own
// process group, opens the workbench in headless Chromium with a payload that makes it
// load the extension under development and its tests, waits for VS Code's exit code,
// prints every result and a closing `N passed, N failed`, and kills everything it started.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { cleanupScratch, freePort, gitWorkspace, killGroup, launchChromium, readEnvFile, scratch, startGroup, sweep } from './harness.mjs';

const SUITE_TIMEOUT_MS = 6 * 60_000;
// The live-transcript scenario's director calls file_exists (no other scenario does):
// each call waits for an approval, which holds its attempt open while the suite watches.
const BOSUN_CONFIG = `[[tools.policy]]
action = "ask"
tool = "file_exists"
reason = "the extension's suite holds an attempt open here"
`;

function args() {
  const out = { keep: false };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep') out.keep = true;
    else if (a === '--env' || a === '--ext' || a === '--bosun' || a === '--only') out[a.slice(2)] = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  for (const k of ['env', 'ext', 'bosun']) if (!out[k]) throw new Error(`--${k} is required`);
  return { ...out, ext: resolve(out.ext), bosun: resolve(out.bosun) };
}

function report(resultsFile) {
  if (!existsSync(resultsFile)) return null;
  const { results } = JSON.parse(readFileSync(resultsFile, 'utf8'));
  for (const r of results) {
    console.log(`${r.ok ? 'ok' : 'not ok'} - ${r.name} (${r.ms} ms)`);
    if (!r.ok) console.log(r.error.replace(/^/gm, '    '));
  }
  return results;
}

async function main() {
  const opts = args();
  const envFile = readEnvFile(opts.env);
  if (!existsSync(join(opts.ext, 'out/test/index.js'))) throw new Error(`${opts.ext}/out/test/index.js is missing: build the tests first`);
  const world = scratch('bosun-e2e');
  const resultsFile = join(world.root, 'results.json');
  gitWorkspace(world.ws, { 'bosun.command': opts.bosun, 'bosun.requestTimeoutSeconds': 20 }, { bosunConfig: BOSUN_CONFIG });
  const env = { ...world.env, BOSUN_E2E_RESULTS: resultsFile, PATH: `${envFile.BOSUN_E2E_NODE_BIN}:${process.env.PATH}` };
  // Only the cases whose name contains this (and the set-up case), while iterating on one.
  if (opts.only) env.BOSUN_E2E_ONLY = opts.only;
  const port = await freePort();
  const d = (name) => join(world.root, name);
  let server;
  let browser;
  let exitCode = 1;
  const started = Date.now();
  try {
    server = await startGroup(
      join(envFile.BOSUN_E2E_NODE_BIN, 'node'),
      [
        join(envFile.BOSUN_E2E_VSCODE_DIR, 'out/server-main.js'),
        '--host', '127.0.0.1', '--port', String(port),
        '--without-connection-token', '--accept-server-license-terms',
        '--enable-smoke-test-driver', '--disable-telemetry', '--disable-workspace-trust',
        '--server-data-dir', d('server'), '--user-data-dir', d('user'), '--extensions-dir', d('exts'),
      ],
      { env, logFile: d('server.log'), ready: /Extension host agent listening on \d+/ },
    );
    browser = await launchChromium(envFile, world.env);
    const page = await browser.newPage();
    const pageLog = [];
    page.on('console', (m) => pageLog.push(m.text()));
    const exited = new Promise((resolveExit) => {
      void page.exposeFunction('codeAutomationExit', (code) => resolveExit(Number(code)));
    });
    const remote = `vscode-remote://127.0.0.1:${port}`;
    const payload = [
      ['extensionDevelopmentPath', `${remote}${opts.ext}`],
      ['extensionTestsPath', `${remote}${opts.ext}/out/test/index.js`],
    ];
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(world.ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    let timer;
    exitCode = await Promise.race([
      exited,
      new Promise((r) => {
        timer = setTimeout(() => r('timeout'), SUITE_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (exitCode === 'timeout') {
      console.log(`the suite did not finish within ${SUITE_TIMEOUT_MS / 1000} s; last workbench console lines:`);
      console.log(pageLog.slice(-30).join('\n'));
      exitCode = 1;
    }
  } finally {
    await browser?.close().catch(() => undefined);
    await killGroup(server);
    const strays = sweep(world.marker);
    if (strays.length) console.error(`killed leftover processes of this run: ${strays.join(', ')}`);
  }
  const results = report(resultsFile);
  const failed = results ? results.filter((r) => !r.ok).length : 0;
  const passed = results ? results.length - failed : 0;
  console.log(`(VS Code exit code ${exitCode}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  if (!results) console.log(`no results were written; server log: ${d('server.log')}`);
  const ok = results && failed === 0 && exitCode === 0;
  cleanupScratch(world.root, opts.keep || !ok);
  console.log(`${passed} passed, ${results ? failed : 1} failed`);
  process.exit(ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err.stack ?? String(err));
  console.log('0 passed, 1 failed');
  process.exit(1);
});
