import { describe, expect, it } from 'vitest';
import { ndf, parseJsonl } from './cli.js';

/** Without an ND_LOG_LEVEL from the test runner's environment. */
const env = { ND_LOG_LEVEL: undefined };

describe('ndf run: log lines carry the run id and the step', () => {
  it('--log-level debug after the command: every run line has runId, step lines have step and path', async () => {
    const result = await ndf(
      ['run', 'test/e2e/fixtures/first.yaml', '--no-progress', '--log-level', 'debug'],
      {
        env,
      },
    );
    expect(result.code).toBe(0);
    const runId = /\(run ([0-9a-f-]+)\)/.exec(result.stdout)?.[1];
    expect(runId).toBeDefined();
    const lines = parseJsonl(result.stderr).filter((l) => l['runId'] !== undefined);
    expect(lines.map((l) => l['msg'])).toEqual([
      'run started',
      'step running',
      'step completed',
      'run finished',
    ]);
    expect(lines.every((l) => l['runId'] === runId)).toBe(true);
    for (const line of lines.filter((l) => String(l['msg']).startsWith('step ')))
      expect(line).toMatchObject({
        pattern: 'hello',
        step: 'echo',
        path: ['hello'],
        agent: 'echo',
        attempt: 1,
      });
  });

  it('silent by default: the command prints the run itself', async () => {
    const result = await ndf(['run', 'test/e2e/fixtures/first.yaml', '--no-progress'], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });
});
