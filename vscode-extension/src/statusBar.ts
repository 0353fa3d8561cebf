/** The status bar item: connection, and the active run's progress and cost. */

import * as vscode from 'vscode';

import type { RunCache } from './logic/runCache';
import { statusModel, type StatusModel } from './logic/status';
import type { Daemon } from './daemon';

/** Keeps one status bar item equal to `statusModel()`. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('bosun.status', vscode.StatusBarAlignment.Left, 50);
  private current: StatusModel;

  constructor(
    private readonly daemon: Daemon,
    private readonly cache: RunCache,
  ) {
    this.item.name = 'Bosun';
    this.current = this.compute();
    this.render();
    this.item.show();
  }

  /** What the item shows now. */
  get model(): StatusModel {
    return this.current;
  }

  /** Recompute and redraw. */
  update(): void {
    this.current = this.compute();
    this.render();
  }

  dispose(): void {
    this.item.dispose();
  }

  private compute(): StatusModel {
    return statusModel(this.daemon.state, this.cache.allRuns(), (id) => this.cache.tasksOf(id), this.daemon.problem);
  }

  private render(): void {
    this.item.text = this.current.text;
    this.item.tooltip = this.current.tooltip;
    const ok = this.daemon.state === 'connected' || this.daemon.state === 'starting';
    this.item.command = ok ? 'bosun.runs.focus' : 'bosun.openLog';
    this.item.backgroundColor = this.daemon.state === 'failed' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
  }
}
