/** The task graph: a webview DAG coloured by state; click opens a task, link mode edits dependencies. */

import { randomBytes } from 'node:crypto';

import * as vscode from 'vscode';

import type { Daemon } from './daemon';
import { describeError } from './logic/errors';
import { graphModel, linkChange, NODE_H, NODE_W } from './logic/graphLayout';
import type { RunCache } from './logic/runCache';
import { TASK_STYLES } from './logic/stateStyle';

type FromWebview = { type: 'ready' } | { type: 'rendered'; count: number } | { type: 'open'; taskId: number } | { type: 'link'; from: number; to: number };

const cssVar = (color: string): string => `--vscode-${color.replace(/\./g, '-')}`;
const colorClass = (color: string): string => `c-${color.replace(/\./g, '-')}`;

function page(nonce: string): string {
  const colors = [...new Set([...Object.values(TASK_STYLES).map((s) => s.color ?? 'foreground'), 'foreground'])];
  const colorRules = colors.map((c) => `.${colorClass(c)} rect { stroke: var(${cssVar(c)}); } .${colorClass(c)} circle { fill: var(${cssVar(c)}); }`).join('\n');
  // No remote resources and nothing inline without the nonce: the CSP allows only these.
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<style nonce="${nonce}">
body { color: var(--vscode-foreground); font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); }
#bar { display: flex; gap: 12px; align-items: center; margin-bottom: 8px; }
button { background: var(--vscode-button-background); color: var(--vscode-button-foreground); border: none; padding: 4px 10px; cursor: pointer; }
#status { color: var(--vscode-descriptionForeground); }
#status.error { color: var(--vscode-errorForeground); }
.node { cursor: pointer; }
.node rect { fill: var(--vscode-editor-background); stroke-width: 2; }
.node.selected rect { stroke-dasharray: 4 2; stroke-width: 3; }
.node text { fill: var(--vscode-foreground); }
.node text.sub { fill: var(--vscode-descriptionForeground); font-size: 11px; }
.edge { stroke: var(--vscode-descriptionForeground); stroke-width: 1.5; fill: none; }
#arrow path { fill: var(--vscode-descriptionForeground); }
${colorRules}
</style></head>
<body>
<div id="bar"><button id="link">Link mode: off</button><span id="status">Click a task to open it.</span></div>
<svg id="graph" xmlns="http://www.w3.org/2000/svg"></svg>
<script nonce="${nonce}">
(function () {
  const vscode = acquireVsCodeApi();
  const NS = 'http://www.w3.org/2000/svg';
  const svg = document.getElementById('graph');
  const status = document.getElementById('status');
  const linkButton = document.getElementById('link');
  let linking = false;
  let source = null;
  const el = (name, attrs) => {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    return e;
  };
  const say = (text, error) => { status.textContent = text; status.className = error ? 'error' : ''; };
  linkButton.addEventListener('click', () => {
    linking = !linking; source = null;
    linkButton.textContent = 'Link mode: ' + (linking ? 'on' : 'off');
    say(linking ? 'Click the task to wait for, then the task that waits.' : 'Click a task to open it.', false);
    for (const n of svg.querySelectorAll('.node')) n.classList.remove('selected');
  });
  function render(model) {
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    svg.setAttribute('width', model.width); svg.setAttribute('height', model.height);
    const defs = el('defs', {});
    const marker = el('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto' });
    marker.appendChild(el('path', { d: 'M0,0 L10,5 L0,10 z' }));
    defs.appendChild(marker); svg.appendChild(defs);
    const at = new Map(model.nodes.map((n) => [n.id, n]));
    for (const e of model.edges) {
      const a = at.get(e.from), b = at.get(e.to);
      if (!a || !b) continue;
      const x1 = a.x + ${NODE_W}, y1 = a.y + ${NODE_H / 2}, x2 = b.x, y2 = b.y + ${NODE_H / 2};
      const mid = (x1 + x2) / 2;
      svg.appendChild(el('path', { class: 'edge', d: 'M' + x1 + ',' + y1 + ' C' + mid + ',' + y1 + ' ' + mid + ',' + y2 + ' ' + x2 + ',' + y2, 'marker-end': 'url(#arrow)' }));
    }
    for (const n of model.nodes) {
      const g = el('g', { class: 'node ' + n.colorClass, 'data-id': n.id, transform: 'translate(' + n.x + ',' + n.y + ')' });
      g.appendChild(el('rect', { width: ${NODE_W}, height: ${NODE_H}, rx: 6 }));
      g.appendChild(el('circle', { cx: 12, cy: ${NODE_H / 2}, r: 5 }));
      const title = el('text', { x: 24, y: 18 }); title.textContent = n.label; g.appendChild(title);
      const sub = el('text', { x: 24, y: 34, class: 'sub' }); sub.textContent = n.key + ' · ' + n.state; g.appendChild(sub);
      const tip = el('title', {}); tip.textContent = n.label + ' (' + n.state + ')'; g.appendChild(tip);
      g.addEventListener('click', () => {
        if (!linking) { vscode.postMessage({ type: 'open', taskId: n.id }); return; }
        if (source === null) { source = n.id; g.classList.add('selected'); say('Now click the task that should wait for ' + n.key + '.', false); return; }
        vscode.postMessage({ type: 'link', from: source, to: n.id });
        source = null;
        for (const x of svg.querySelectorAll('.node')) x.classList.remove('selected');
      });
      svg.appendChild(g);
    }
    vscode.postMessage({ type: 'rendered', count: model.nodes.length });
  }
  window.addEventListener('message', (event) => {
    const m = event.data;
    if (m.type === 'render') render(m.model);
    else if (m.type === 'status') say(m.text, m.error);
  });
  vscode.postMessage({ type: 'ready' });
})();
</script>
</body></html>`;
}

/** One graph panel at a time, following the run it shows. */
export class TaskGraph implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private runId: number | undefined;
  private drawn = -1;
  private readonly renderedEmitter = new vscode.EventEmitter<number>();
  /** Fires with the node count each time the webview has drawn (the suite waits on it). */
  readonly onDidRender = this.renderedEmitter.event;

  constructor(
    private readonly cache: RunCache,
    private readonly daemon: Daemon,
    private readonly openTask: (taskId: number) => void,
  ) {}

  /** Nodes in the last drawing, -1 before any. */
  get renderedNodes(): number {
    return this.drawn;
  }

  /** Show the graph of a run (reusing the panel). */
  show(runId: number): void {
    this.runId = runId;
    this.drawn = -1;
    if (!this.panel) {
      this.panel = vscode.window.createWebviewPanel('bosun.graph', 'Bosun: task graph', vscode.ViewColumn.Active, { enableScripts: true, localResourceRoots: [] });
      this.panel.onDidDispose(() => {
        this.panel = undefined;
      });
      this.panel.webview.onDidReceiveMessage((m: FromWebview) => void this.receive(m));
    }
    this.panel.title = `Bosun: run #${String(runId)} graph`;
    this.panel.webview.html = page(randomBytes(16).toString('base64'));
    this.panel.reveal();
  }

  /** Redraw after the run's tasks changed. */
  refresh(): void {
    if (this.panel && this.runId !== undefined) void this.post();
  }

  dispose(): void {
    this.panel?.dispose();
    this.renderedEmitter.dispose();
  }

  private post(): Thenable<boolean> | undefined {
    if (!this.panel || this.runId === undefined) return undefined;
    const model = graphModel(this.runId, this.cache.tasksOf(this.runId));
    const nodes = model.nodes.map((n) => ({ ...n, colorClass: colorClass(n.color) }));
    return this.panel.webview.postMessage({ type: 'render', model: { ...model, nodes } });
  }

  private async receive(m: FromWebview): Promise<void> {
    if (m.type === 'ready') void this.post();
    else if (m.type === 'rendered') {
      this.drawn = m.count;
      this.renderedEmitter.fire(m.count);
    } else if (m.type === 'open') this.openTask(m.taskId);
    else if (this.runId !== undefined) await this.link(this.runId, m.from, m.to);
  }

  private async link(runId: number, from: number, to: number): Promise<void> {
    const change = linkChange(this.cache.tasksOf(runId), from, to);
    if ('problem' in change) {
      void this.panel?.webview.postMessage({ type: 'status', text: change.problem, error: true });
      return;
    }
    try {
      const { task } = await this.daemon.request('bosun/updateTask', { taskId: to, ...(change.add ? { addDependencies: [from] } : { removeDependencies: [from] }) });
      this.cache.putTask(task, this.cache.lastSeq);
      void this.panel?.webview.postMessage({ type: 'status', text: change.add ? 'Dependency added.' : 'Dependency removed.', error: false });
    } catch (err) {
      // A cycle is refused by the daemon; its message names the cycle.
      void this.panel?.webview.postMessage({ type: 'status', text: describeError('bosun/updateTask', err), error: true });
    }
  }
}
