/** How to start the daemon: which executable, or a clear error saying how to fix it. */

import * as path from 'node:path';

import type { BosunSettings } from './settings';

/** A resolved command line, or why there is none and what to do about it. */
export type Launch =
  | { readonly ok: true; readonly command: string; readonly args: readonly string[]; readonly cwd: string | undefined }
  | { readonly ok: false; readonly message: string; readonly fix: string };

/** The parts of the machine that resolution looks at (a seam for tests). */
export interface LaunchHost {
  readonly workspaceFolders: readonly string[];
  readonly pathEnv: string;
  isExecutable(file: string): boolean;
}

const LSP_ARGS = ['lsp'];

function expand(value: string, folder: string | undefined): string {
  const withFolder = folder ? value.replace(/\$\{workspaceFolder\}/g, folder) : value;
  return path.isAbsolute(withFolder) || !folder ? withFolder : path.resolve(folder, withFolder);
}

function onPath(name: string, host: LaunchHost): string | undefined {
  for (const dir of host.pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (host.isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Resolve `bosun.python`, `bosun.command`, the workspace's .venv, then PATH, in that order. */
export function resolveLaunch(settings: Pick<BosunSettings, 'command' | 'python'>, host: LaunchHost): Launch {
  const folder = host.workspaceFolders[0];
  if (settings.python) {
    const python = settings.python.includes('/') ? expand(settings.python, folder) : onPath(settings.python, host);
    if (!python || !host.isExecutable(python)) {
      return {
        ok: false,
        message: `bosun.python is "${settings.python}", which is not an executable file.`,
        fix: 'Set bosun.python to the interpreter of the environment where Bosun is installed (for example .venv/bin/python), or clear it.',
      };
    }
    return { ok: true, command: python, args: ['-m', 'bosun', ...LSP_ARGS], cwd: folder };
  }
  if (settings.command) {
    const command = settings.command.includes('/') ? expand(settings.command, folder) : onPath(settings.command, host);
    if (!command || !host.isExecutable(command)) {
      return {
        ok: false,
        message: `bosun.command is "${settings.command}", which is not an executable file${settings.command.includes('/') ? '' : ' on PATH'}.`,
        fix: 'Set bosun.command to the path of the bosun executable (for example .venv/bin/bosun), or clear it to use the workspace\'s .venv.',
      };
    }
    return { ok: true, command, args: LSP_ARGS, cwd: folder };
  }
  for (const dir of host.workspaceFolders) {
    const local = path.join(dir, '.venv', 'bin', 'bosun');
    if (host.isExecutable(local)) return { ok: true, command: local, args: LSP_ARGS, cwd: folder };
  }
  const global = onPath('bosun', host);
  if (global) return { ok: true, command: global, args: LSP_ARGS, cwd: folder };
  const looked = host.workspaceFolders.map((d) => path.join(d, '.venv', 'bin')).concat('PATH');
  return {
    ok: false,
    message: `Cannot find the bosun command (looked in ${looked.join(', ')}).`,
    fix: 'Install Bosun into the workspace (python3 -m venv .venv && .venv/bin/pip install bosun), or set bosun.command to its path.',
  };
}
