#!/usr/bin/env node
// Launcher of the `ndf` command. In a checkout (src/ present) it runs the TypeScript sources
// through tsx, so `npx ndf …` works right after `npm ci` and never runs a stale dist/; the
// published package ships only dist/, which it runs.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/cli/main.js', import.meta.url).href);
}
