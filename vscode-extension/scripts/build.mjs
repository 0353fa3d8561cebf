#!/usr/bin/env node
// Bundle the extension (dist/extension.js) and, with --tests, the unit tests
// (out/unit/*.test.js, run by `node --test`) and the in-VS-Code suite (out/test/index.js).
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // `vscode` exists only inside the extension host; unit tests must not import it.
  external: ['vscode'],
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
  absWorkingDir: root,
};

await build({ ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', minify: production });

if (process.argv.includes('--tests')) {
  const unit = readdirSync(resolve(root, 'test/unit'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => `test/unit/${f}`);
  await build({ ...common, entryPoints: unit, outdir: 'out/unit' });
  await build({ ...common, entryPoints: ['test/e2e/index.ts'], outfile: 'out/test/index.js' });
}
