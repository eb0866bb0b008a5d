import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { defineAgent } from '../../src/actors/agent.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { runLogListener } from '../../src/runtime/executor/runLog.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/index.js';

/** A pino logger at `level` writing JSON lines into `lines`. */
function capture(level: string, lines: Record<string, unknown>[]) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level }, sink);
}

async function runEtl(level: string): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = [];
  const registry = new PatternRegistry();
  registry.registerPattern(
    new SequentialDelegationPattern({
      name: 'etl',
      description: 'd',
      steps: [
        { name: 'extract', capability: 'ok' },
        { name: 'load', capability: 'bad', retry: { maxAttempts: 1 } },
      ],
    }),
  );
  const executor = new PatternExecutor(registry, {
    logger: capture(level, lines),
    agents: [
      defineAgent({ id: 'reader', capabilities: ['ok'], handler: () => 1 }),
      defineAgent({
        id: 'writer',
        capabilities: ['bad'],
        handler: () => {
          throw new Error('disk full');
        },
      }),
    ],
  });
  const result = await executor.run('etl', {}, { runId: 'run-7' });
  await executor.close();
  expect(result.status).toBe('rolledBack');
  return lines;
}

describe('run logs through pino child loggers', () => {
  it('at debug, every line of the run carries its runId, and step lines the step and path', async () => {
    const lines = (await runEtl('debug')).filter((l) => l['runId'] === 'run-7');
    const msgs = lines.map((l) => [l['msg'], l['step'] ?? null, l['status'] ?? null]);
    expect(msgs).toEqual(
      expect.arrayContaining([
        ['run started', null, null],
        ['step running', 'extract', 'running'],
        ['step completed', 'extract', 'completed'],
        ['step failed', 'load', 'failed'],
        ['step compensated', 'extract', 'compensated'],
        ['run finished', null, 'rolledBack'],
      ]),
    );
    const started = lines.find((l) => l['msg'] === 'run started');
    expect(started).toMatchObject({ level: 30, runId: 'run-7', pattern: 'etl' });
    const failed = lines.find((l) => l['msg'] === 'step failed');
    expect(failed).toMatchObject({
      level: 30,
      runId: 'run-7',
      pattern: 'etl',
      step: 'load',
      path: ['etl'],
      agent: 'writer',
      attempt: 1,
    });
    expect((failed?.['err'] as { message: string }).message).toContain('disk full');
    expect(lines.find((l) => l['msg'] === 'step running')).toMatchObject({ level: 20, step: 'extract' });
  });

  it('at info, only the run and failed steps; at warn, nothing and no listener', async () => {
    const info = (await runEtl('info')).map((l) => l['msg']);
    expect(info).toEqual(['run started', 'step failed', 'run finished']);
    expect(await runEtl('warn')).toEqual([]);
    expect(runLogListener(capture('warn', []))).toBeUndefined();
  });
});
