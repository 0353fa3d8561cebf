/** The Runs and Needs-you tree views: NodeModel rows drawn with the VS Code API. */

import * as vscode from 'vscode';

import type { NodeModel } from './logic/runTree';

/** Turn one plain row into a VS Code tree item. */
export function treeItem(node: NodeModel, expanded: boolean): vscode.TreeItem {
  // A run always folds: VS Code keeps the first state it saw for an id, so a run drawn
  // before its tasks existed would otherwise never open.
  const collapsible =
    node.children.length === 0 && node.kind !== 'run'
      ? vscode.TreeItemCollapsibleState.None
      : expanded
        ? vscode.TreeItemCollapsibleState.Expanded
        : vscode.TreeItemCollapsibleState.Collapsed;
  const item = new vscode.TreeItem(node.label, collapsible);
  item.id = node.id;
  item.description = node.description;
  item.tooltip = new vscode.MarkdownString(node.tooltip, true);
  item.iconPath = new vscode.ThemeIcon(node.icon, node.color ? new vscode.ThemeColor(node.color) : undefined);
  item.contextValue = node.contextValue;
  if (node.kind === 'prompt') item.command = { command: 'bosun.resolveTask', title: 'Resolve', arguments: [node] };
  return item;
}

/** A tree whose rows are rebuilt from `build()` on every refresh. */
export class NodeTree implements vscode.TreeDataProvider<NodeModel>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<undefined>();
  private roots: NodeModel[] = [];
  readonly onDidChangeTreeData = this.changed.event;

  constructor(
    private readonly build: () => NodeModel[],
    private readonly isExpanded: (node: NodeModel) => boolean,
  ) {
    this.roots = build();
  }

  /** Rebuild the rows and redraw. */
  refresh(): void {
    this.roots = this.build();
    this.changed.fire(undefined);
  }

  /** The current top-level rows (tests read the tree through this). */
  rows(): readonly NodeModel[] {
    return this.roots;
  }

  getTreeItem(node: NodeModel): vscode.TreeItem {
    return treeItem(node, this.isExpanded(node));
  }

  getChildren(node?: NodeModel): NodeModel[] {
    return node ? [...node.children] : this.roots;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
