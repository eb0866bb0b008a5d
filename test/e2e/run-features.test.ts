import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ndf, NDF_BIN, ROOT } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';

describe('ndf run: timeouts, automatic selection, interruption', () => {
  it('a step timeout fails each attempt, retries, then fails the run (exit 1) without waiting for the command', async () => {
    const started = Date.now();
    const run = await ndf(['run', 'test/e2e/fixtures/timeout.yaml']);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/│ sleep +│ ✖ failed +│ sleeper +│ 2 +│/);
    // The second attempt ends by the step's 300 ms timer or by the command's own deadline
    // (the time left of it, a few ms less): whichever fires first names the timeout.
    expect(run.stdout).toMatch(/✖ failed {2}agent sleeper {2}attempt 2 .*timed out after \d+ ms/);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('without run.pattern, the executor picks the pattern matching the context', async () => {
    const run = await ndf(['run', 'test/e2e/fixtures/auto-select.yaml']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('started: search_indexing');
    expect(run.stdout).toMatch(/│ index +│ ✔ completed +│ worker +│ 1 +│/);
    expect(run.stdout).not.toContain('unrelated');
  });

  it('--input @file reads YAML and merges over run.input; a bad --timeout is bad input', async () => {
    const dir = tempDir('ndf-input-');
    const out = path.join(dir, 'out');
    await writeFile(path.join(dir, 'input.yaml'), `outDir: ${out}\nlimit: 200\n`);
    const run = await ndf([
      'run',
      'examples/data-pipeline/workflow.yaml',
      '--input',
      `@${path.join(dir, 'input.yaml')}`,
    ]);
    expect(run.code).toBe(0);
    const report = await readFile(path.join(out, 'report.md'), 'utf8');
    expect(report).toContain('| loaded | 200 |');
    const bad = await ndf(['run', 'examples/data-pipeline/workflow.yaml', '--timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout: expected a whole number of ms, got "soon"');
  });

  it('Ctrl-C cancels a run without the store, reports it and exits 130 (128 + SIGINT)', async () => {
    const child = spawn(process.execPath, [NDF_BIN, 'run', 'test/e2e/fixtures/slow.yaml', '--no-store'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let interrupted = false;
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        if (!interrupted && stdout.includes('◐ running')) interrupted = child.kill('SIGINT');
      });
      child.on('close', resolve);
    });
    expect(code).toBe(130);
    expect(stdout).toMatch(/│ sleep +│ ⊘ cancelled +│ sleeper/);
    expect(stdout).toContain('was cancelled');
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
