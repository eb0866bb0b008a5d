import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The launcher (bin/ndf.js) of a fresh build of the CLI, laid out as an installed package. */
    ndfBin: string;
  }
}

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * Builds the CLI once per e2e run, fresh (a stale build can never be tested), into a temporary
 * directory laid out like the installed package: package.json, bin/ndf.js, dist/ and a link to
 * the checkout's node_modules. The e2e tests spawn `node <dir>/bin/ndf.js`, which runs dist/
 * there (no src/ beside it), as `npx ndf` does after `npm install`: no tsx compile per call.
 * Removed when the run ends.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ndf-e2e-cli-'));
  try {
    await promisify(execFile)(
      process.execPath,
      [
        path.join(ROOT, 'node_modules/typescript/bin/tsc'),
        '-p',
        path.join(ROOT, 'tsconfig.build.json'),
        '--outDir',
        path.join(dir, 'dist'),
        '--declaration',
        'false',
        '--sourceMap',
        'false',
      ],
      { cwd: ROOT },
    );
    // The inspector's page is static HTML/JS/CSS, copied as `npm run build` does.
    cpSync(path.join(ROOT, 'src/inspector/page'), path.join(dir, 'dist/inspector/page'), { recursive: true });
    copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(path.join(ROOT, 'bin/ndf.js'), path.join(dir, 'bin/ndf.js'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const out = (error as { stdout?: string }).stdout ?? '';
    throw new Error(`e2e: building the CLI failed: ${out || String(error)}`);
  }
  project.provide('ndfBin', path.join(dir, 'bin/ndf.js'));
  return () => rmSync(dir, { recursive: true, force: true });
}
