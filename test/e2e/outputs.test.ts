import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tempDir.js';
import { ndf, parseJsonl } from './cli.js';

const FIRST = 'test/e2e/fixtures/first.yaml';
interface Step {
  name: string;
  output?: { input?: { params?: unknown }; step?: string };
}

describe.concurrent('step outputs are visible', () => {
  it('the summary shows the last step output and --output writes every step output', async () => {
    const file = path.join(tempDir('ndf-outputs-'), 'sub', 'outputs.json');
    const run = await ndf(['run', FIRST, '--no-progress', '--output', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^output of echo: \{"version":1,"kind":"task",.*"step":"echo"/m);
    expect(run.stdout).toContain(`every step output: ${file}`);
    const written = JSON.parse(await readFile(file, 'utf8')) as { status: string; steps: Step[] };
    expect(written.status).toBe('succeeded');
    expect(written.steps.map((s) => [s.name, s.output?.input?.params])).toEqual([['echo', 'hi there']]);
  });

  it('--json ends with the result including each step output', async () => {
    const run = await ndf(['run', FIRST, '--json']);
    expect(run.code).toBe(0);
    const last = parseJsonl(run.stdout).at(-1) as { type: string; result: { steps: Step[] } };
    expect(last.type).toBe('run.result');
    expect(last.result.steps[0]?.output?.input?.params).toBe('hi there');
  });

  it('an --output path that cannot be written is bad input before the run', async () => {
    const blocker = path.join(tempDir('ndf-outputs-'), 'file');
    await writeFile(blocker, 'x');
    const run = await ndf(['run', FIRST, '--output', path.join(blocker, 'out.json')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--output: cannot write ${path.join(blocker, 'out.json')}: EEXIST`);
    expect(run.stdout).toBe('');
  });
});
