#!/usr/bin/env node
// Launcher of the `ndf` command. In a checkout (src/ present) it runs the TypeScript sources
// through tsx, so `npx ndf …` works right after `npm ci` and never runs a stale dist/; the
// published package ships only dist/, which it runs.
//
// tsx is registered under a namespace, so its hooks apply to the CLI's own sources only: a
// global hook would also load users' plain ESM `.js` module agents (outside a `"type":
// "module"` package) as CommonJS, and they would fail with `Cannot require() ES Module … in a
// cycle`, while the same files load from an installed package.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  const tsx = register({ namespace: 'ndf-cli' });
  await tsx.import(source.href, import.meta.url);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
