// Drive the real VS Code UI (code-server in headless Chromium) and take the README's
// screenshots: the extension is installed from its .vsix, an objective is started from
// the command palette exactly as a user would, and the sidebar is captured once the run
// shows in the Runs tree.
//
//   node24 scripts/e2e/screenshots.mjs --env ENV_FILE --ext DIR --bosun PATH --vsix FILE --out DIR [--keep]

import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { cleanupScratch, freePort, gitWorkspace, killGroup, launchChromium, readEnvFile, scratch, startGroup, sweep } from './harness.mjs';

const OBJECTIVE = 'Add a --json flag to the export command, with tests';
const NOTES_OBJECTIVE = 'Tidy the notes';
const GRAPH_OBJECTIVE = 'Export reports as CSV and JSON, with tests and docs';
const COMMENT = 'Keep line 19 as it was';
const STEP_TIMEOUT_MS = 30_000;

function args() {
  const out = { keep: false };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep') out.keep = true;
    else if (['--env', '--ext', '--bosun', '--vsix', '--out'].includes(a)) out[a.slice(2)] = argv[++i];
    else throw new Error(`unknown argument ${a}`);
  }
  for (const k of ['env', 'bosun', 'vsix', 'out']) if (!out[k]) throw new Error(`--${k} is required`);
  return { ...out, bosun: resolve(out.bosun), vsix: resolve(out.vsix), out: resolve(out.out) };
}

/** Open the command palette and run the command titled `title`. */
async function runPaletteCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title.replace(/^Bosun: /, '') }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
  await page.keyboard.press('Enter');
}

/**
 * Start an objective through the palette: the command, its input box, its options
 * (ticking "Review gate", or "Choose the model…" and typing `model`).
 */
async function startObjectiveFromPalette(page, objective, { reviewGate = false, model } = {}) {
  const input = page.locator('.quick-input-widget input');
  await runPaletteCommand(page, 'Bosun: Start an Objective');
  await page.locator('.quick-input-widget', { hasText: 'What should be done' }).waitFor({ timeout: STEP_TIMEOUT_MS });
  await input.fill(objective);
  await page.keyboard.press('Enter');
  const options = page.locator('.quick-input-widget', { hasText: 'Options for this run' });
  await options.waitFor({ timeout: STEP_TIMEOUT_MS });
  const tick = async (label) => {
    await options.locator('.quick-input-list .monaco-list-row', { hasText: label }).locator('input[type=checkbox], .monaco-checkbox, .quick-input-list-checkbox').first().click();
  };
  if (reviewGate) await tick('Review gate');
  if (model) await tick('Choose the model');
  // OK, not Enter: Enter on a focused checkbox would toggle it back.
  await options.getByRole('button', { name: 'OK' }).click();
  if (model) {
    await page.locator('.quick-input-widget', { hasText: 'provider:model' }).waitFor({ timeout: STEP_TIMEOUT_MS });
    await input.fill(model);
    await page.keyboard.press('Enter');
  }
}

async function main() {
  const opts = args();
  const envFile = readEnvFile(opts.env);
  const node = join(envFile.BOSUN_E2E_NODE_BIN, 'node');
  const codeServer = envFile.BOSUN_E2E_CODE_SERVER;
  const world = scratch('bosun-shots');
  gitWorkspace(world.ws, { 'bosun.command': opts.bosun });
  const d = (name) => join(world.root, name);
  // A quiet window: no welcome page, no chat side bar, so the picture shows Bosun.
  mkdirSync(d('user/User'), { recursive: true });
  writeFileSync(
    d('user/User/settings.json'),
    JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'chat.disableAIFeatures': true,
      'window.commandCenter': false,
      'diffEditor.useInlineViewWhenSpaceIsLimited': false,
      // The comments panel would cover half of the diff in the review picture.
      'comments.openView': 'never',
    }),
  );
  const common = ['--user-data-dir', d('user'), '--extensions-dir', d('exts')];
  execFileSync(node, [codeServer, ...common, '--install-extension', opts.vsix], { env: world.env, stdio: 'pipe' });
  const port = await freePort();
  let server;
  let browser;
  const checks = [];
  let page;
  try {
    server = await startGroup(
      node,
      [codeServer, ...common, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', world.ws],
      { env: world.env, logFile: d('code-server.log'), ready: /HTTP server listening on/ },
    );
    browser = await launchChromium(envFile, world.env);
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(world.ws)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.locator('.activitybar [aria-label^="Bosun"]').first().click({ timeout: STEP_TIMEOUT_MS });
    await page.locator('.pane-header', { hasText: 'Runs' }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    // Widen the side bar so rows are not cut short in the pictures.
    const sash = await page.locator('.part.sidebar').boundingBox();
    if (sash) {
      const x = sash.x + sash.width + 2;
      await page.mouse.move(x, sash.y + 300);
      await page.mouse.down();
      await page.mouse.move(x + 180, sash.y + 300, { steps: 5 });
      await page.mouse.up();
    }
    await page.locator('.statusbar-item', { hasText: 'Bosun' }).first().waitFor({ timeout: STEP_TIMEOUT_MS });

    // Run 1: the demo scenario with the review gate on; its design waits for review.
    await startObjectiveFromPalette(page, OBJECTIVE, { reviewGate: true });
    const row = page.locator('.monaco-list-row', { hasText: OBJECTIVE }).first();
    await row.waitFor({ timeout: STEP_TIMEOUT_MS });
    checks.push('a run started from the command palette shows in the Runs tree');
    await page.locator('.statusbar-item', { hasText: /Bosun #\d+/ }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    checks.push('the status bar names the active run');
    await page.locator('.monaco-list-row', { hasText: 'awaiting review' }).first().waitFor({ timeout: 60_000 });
    checks.push('the design task reaches awaiting review in the tree');

    // Run 2: a scenario whose task stalls and asks a human (model chosen in the options).
    mkdirSync(opts.out, { recursive: true });
    const scenario = join(opts.ext, 'test', 'e2e', 'needs-human.toml');
    await startObjectiveFromPalette(page, 'Explain the build in BUILDING.md', { model: `scripted:${scenario}` });
    const toast = page.locator('.notification-toast', { hasText: 'needs you' }).first();
    await toast.waitFor({ timeout: 60_000 });
    checks.push('the prompt pops up as a notification with its answers');
    await toast.screenshot({ path: join(opts.out, 'prompt.png') });
    checks.push(`screenshot ${join(opts.out, 'prompt.png')}`);
    const needsYou = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Needs You' }) });
    await needsYou.locator('.monaco-list-row').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    checks.push('the prompt is listed under Needs you');
    await page.keyboard.press('Escape');
    await page.locator('.notification-toast').first().waitFor({ state: 'detached', timeout: 5000 }).catch(() => undefined);
    const taskRow = page.locator('.monaco-list-row', { hasText: 'awaiting review' }).first();
    await taskRow.hover();
    // Let the task's tooltip (criteria, verdicts) open before the picture.
    await page.locator('.monaco-hover, .workbench-hover', { hasText: 'Acceptance criteria' }).first().waitFor({ timeout: STEP_TIMEOUT_MS }).catch(() => undefined);
    await page.screenshot({ path: join(opts.out, 'sidebar.png') });
    checks.push(`screenshot ${join(opts.out, 'sidebar.png')}`);

    // Run 3: its task changed NOTES.md in two places and waits for review.
    const twoHunks = join(opts.ext, 'test', 'e2e', 'two-hunks.toml');
    await startObjectiveFromPalette(page, NOTES_OBJECTIVE, { reviewGate: true, model: `scripted:${twoHunks}` });
    await page.locator('.monaco-list-row', { hasText: `Design and plan: ${NOTES_OBJECTIVE}` }).filter({ hasText: 'awaiting review' }).first().waitFor({ timeout: 60_000 });
    checks.push('a task that changed a file in two places reaches awaiting review');
    await runPaletteCommand(page, 'Bosun: Review Changes');
    await page.locator('.quick-input-widget', { hasText: 'Which task?' }).waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.locator('.quick-input-widget input').fill(`Design and plan: ${NOTES_OBJECTIVE}`);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: NOTES_OBJECTIVE }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.keyboard.press('Enter');
    const lens = (text) => page.locator('.codelens-decoration a', { hasText: text });
    await lens('Approve hunk').nth(1).waitFor({ timeout: STEP_TIMEOUT_MS });
    checks.push('Review Changes opens the task diff with a lens per hunk');
    // The diff needs the room more than the side bar does.
    await runPaletteCommand(page, 'View: Toggle Primary Side Bar Visibility');
    await page.locator('.part.sidebar').waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
    await lens('Approve hunk').first().click();
    await page.locator('.codelens-decoration', { hasText: '1 approved' }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await lens('Reject hunk').nth(1).click();
    await page.locator('.codelens-decoration', { hasText: '1 rejected' }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    checks.push('approving one hunk and rejecting the other from their lenses updates the tally');
    // A comment on the changed line 19, as a reviewer writes it: the + in the gutter, the
    // reply box, its Add Comment button.
    const modified = page.locator('.editor.modified');
    const number19 = modified.locator('.line-numbers', { hasText: /^19$/ });
    await number19.hover({ timeout: STEP_TIMEOUT_MS });
    // The + shows just right of the line number while the line is hovered.
    const box = await number19.boundingBox();
    if (!box) throw new Error('line 19 of the diff is not on screen');
    await page.mouse.click(box.x + box.width + 6, box.y + box.height / 2);
    const widget = page.locator('.review-widget').first();
    await widget.locator('.comment-form').waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.keyboard.type(COMMENT);
    await widget.getByRole('button', { name: 'Add Comment' }).click();
    await widget.locator('.review-comment', { hasText: COMMENT }).waitFor({ timeout: STEP_TIMEOUT_MS });
    // Opening the reply box scrolled the diff; back to the top, where the summary lenses are.
    const pane = await modified.boundingBox();
    if (pane) await page.mouse.move(pane.x + pane.width / 2, pane.y + 60);
    const summary = page.locator('.codelens-decoration', { hasText: 'Request changes (1 comments)' }).first();
    // One wheel turn scrolls a few lines: turn until the summary lens is back in view.
    for (let turn = 0; turn < 20 && !(await summary.isVisible()); turn++) {
      await page.mouse.wheel(0, -400);
      await summary.waitFor({ timeout: 500 }).catch(() => undefined);
    }
    await summary.waitFor({ timeout: STEP_TIMEOUT_MS });
    checks.push('a comment written in the gutter of the diff is counted for Request changes');
    await page.screenshot({ path: join(opts.out, 'review.png') });
    checks.push(`screenshot ${join(opts.out, 'review.png')}`);

    // Run 4: a planned run (full-graph.toml): director, planner, four workers of which
    // three finish and one stays active, and a test task waiting on three of them.
    const fullGraph = join(opts.ext, 'test', 'e2e', 'full-graph.toml');
    await startObjectiveFromPalette(page, GRAPH_OBJECTIVE, { model: `scripted:${fullGraph}` });
    // Starting a run reveals it in the side bar; the four columns of the graph need the
    // width, so close the side bar once the run shows there (closing is not a toggle).
    await page.locator('.part.sidebar .monaco-list-row', { hasText: GRAPH_OBJECTIVE }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await runPaletteCommand(page, 'View: Close Primary Side Bar');
    await page.locator('.part.sidebar').waitFor({ state: 'hidden', timeout: STEP_TIMEOUT_MS });
    await runPaletteCommand(page, 'Bosun: Show Task Graph');
    await page.locator('.quick-input-widget', { hasText: 'Which run?' }).waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.locator('.quick-input-widget input').fill(GRAPH_OBJECTIVE);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: GRAPH_OBJECTIVE }).first().waitFor({ timeout: STEP_TIMEOUT_MS });
    await page.keyboard.press('Enter');
    const graph = page.frameLocator('iframe.webview').frameLocator('iframe#active-frame');
    await graph.locator('g.node').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    checks.push('Show Task Graph draws the run in a webview');
    // The webview redraws on every task change: wait until it shows the whole plan (seven
    // tasks), five of them complete and one active, so the picture is never an early one.
    const sub = (state) => graph.locator('g.node text.sub', { hasText: new RegExp(` · ${state}$`) });
    await graph.locator('g.node').nth(6).waitFor({ timeout: 60_000 });
    await sub('complete').nth(4).waitFor({ timeout: 60_000 });
    await sub('active').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    const drawn = { nodes: await graph.locator('g.node').count(), edges: await graph.locator('path.edge').count() };
    if (drawn.nodes !== 7 || drawn.edges !== 9) throw new Error(`the graph drew ${drawn.nodes} tasks and ${drawn.edges} dependencies, not 7 and 9`);
    checks.push('the graph shows the whole plan: 7 tasks, 9 dependencies, 5 complete, 1 active');
    await page.screenshot({ path: join(opts.out, 'graph.png') });
    checks.push(`screenshot ${join(opts.out, 'graph.png')}`);
  } catch (err) {
    // A picture of the failure says more than the locator that timed out.
    await page?.screenshot({ path: d('failure.png') }).catch(() => undefined);
    opts.keep = true;
    console.error(`failure screenshot: ${d('failure.png')}`);
    throw err;
  } finally {
    await browser?.close().catch(() => undefined);
    await killGroup(server);
    sweep(world.marker);
  }
  for (const c of checks) console.log(`ok - ${c}`);
  cleanupScratch(world.root, opts.keep);
}

main().catch((err) => {
  console.error(err.stack ?? String(err));
  console.log('not ok - screenshots');
  process.exit(1);
});
