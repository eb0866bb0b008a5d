import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ndf, parseJsonl } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';

describe('example 2: project check on the fixture project', () => {
  it('runs the real tools in parallel, retries the flaky step, opens the breaker on the down dashboard', async () => {
    const traceFile = path.join(tempDir('ndf-check-'), 'trace.jsonl');
    const run = await ndf(
      [
        'run',
        'examples/project-check/workflow.yaml',
        '--input',
        '{"dir":"examples/project-check/fixture"}',
        '--trace',
        traceFile,
      ],
      { timeoutMs: 110_000 },
    );
    expect(run.stderr).toBe('');
    // Uploads may fail (failureTolerance 0.5): the check itself succeeds.
    expect(run.code).toBe(0);
    for (const [step, agent] of [
      ['typecheck', 'typechecker'],
      ['lint', 'linter'],
      ['tests', 'tester'],
    ]) {
      expect(run.stdout).toMatch(new RegExp(`│ ${step} +│ ✔ completed +│ ${agent} +│ 1 +│`));
    }
    expect(run.stdout).toMatch(/│ pack +│ ✔ completed +│ packer +│ 2 +│/);
    expect(run.stdout).toContain('simulated transient failure on attempt 1');
    expect(run.stdout).toMatch(/Circuit open for agent "uploader"/);

    const events = parseJsonl(await readFile(traceFile, 'utf8'));
    const finished = (step: string) =>
      events.find((e) => e.type === 'step.status' && e.step === step && e.status === 'completed')
        ?.at as number;
    const started = (step: string) =>
      events.find((e) => e.type === 'step.status' && e.step === step && e.status === 'running')?.at as number;
    // Dependencies: tests after typecheck; pack after typecheck and lint.
    expect(started('tests')).toBeGreaterThanOrEqual(finished('typecheck'));
    expect(started('pack')).toBeGreaterThanOrEqual(Math.max(finished('typecheck'), finished('lint')));
    // Parallelism: typecheck and lint overlap.
    expect(started('lint')).toBeLessThan(finished('typecheck'));
    const retries = events.filter(
      (e) => e.type === 'step.status' && e.step === 'pack' && e.status === 'retrying',
    );
    expect(retries).toHaveLength(1);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'breaker.state', agent: 'uploader', from: 'closed', to: 'open' }),
    );
    const uploads = events.filter(
      (e) => e.type === 'step.status' && String(e.step).startsWith('upload_') && e.status === 'failed',
    );
    expect(uploads).toHaveLength(4);
    expect(uploads.filter((e) => (e.error as { code: string }).code === 'ND_CIRCUIT_OPEN')).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
  }, 120_000);
});
