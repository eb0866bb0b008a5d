#!/usr/bin/env node
// Launcher of the `ndf` command. In a checkout (src/ present) it runs the TypeScript sources
// through tsx (a dev dependency), so `npx ndf …` works right after `npm ci` and never runs a
// stale dist/; the published package ships only dist/ (built by `prepack`), which it runs with
// plain node.
//
// tsx is registered under a namespace, so its hooks apply to the CLI's own sources only: a
// global hook would also load users' plain ESM `.js` module agents (outside a `"type":
// "module"` package) as CommonJS, and they would fail with `Cannot require() ES Module … in a
// cycle`, while the same files load from an installed package.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const api = await import('tsx/esm/api').catch(() => undefined);
  if (!api) {
    process.stderr.write('ndf: in a checkout, ndf runs the sources through tsx: run `npm ci` first\n');
    process.exit(1);
  }
  const tsx = api.register({ namespace: 'ndf-cli' });
  await tsx.import(source.href, import.meta.url);
} else if (existsSync(fileURLToPath(built))) {
  await import(built.href);
} else {
  process.stderr.write('ndf: dist/ is missing: run `npm run build` (npm pack builds it on prepack)\n');
  process.exit(1);
}
