#!/usr/bin/env node
// Launcher of the `ndf` command: the built CLI (dist/) when present, else the TypeScript
// sources through tsx, so `npx ndf …` works right after `npm ci` without a build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
