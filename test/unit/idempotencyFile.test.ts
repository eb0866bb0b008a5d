import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { z } from 'zod';
import { IdempotencyFile } from '../../src/actors/idempotencyFile.js';
import { IdempotencyStore } from '../../src/actors/idempotencyStore.js';
import { serveAgent } from '../../src/actors/serveAgent.js';
import type { AgentTask } from '../../src/core/agent.js';
import { PatternValidationError } from '../../src/core/errors.js';
import { toTaskRequest } from '../../src/protocol/protocol.js';
import { MemoryTransport } from '../../src/transport/MemoryTransport.js';
import { decodeText, encodeJson } from '../../src/transport/Transport.js';
import { tempDir } from '../helpers/tempDir.js';

const logger = pino({ level: 'silent' });
const T0 = 1_000_000;

function clockAt(t: number): SimulatedClock {
  const clock = new SimulatedClock();
  clock.set(t);
  return clock;
}

function task(step: string, deadline?: number): AgentTask {
  return {
    runId: 'r1',
    pattern: 'p',
    step,
    capability: 'echo',
    attempt: 1,
    idempotencyKey: `r1/${step}`,
    deadline,
    input: { params: step, runInput: null, results: {} },
    context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
    signal: new AbortController().signal,
  };
}

describe('IdempotencyFile', () => {
  it('a new store on the same file replays what the previous one completed', async () => {
    const file = path.join(tempDir('nd-idem-'), 'keys.jsonl');
    const clock = clockAt(T0);
    const first = IdempotencyFile.open(file, z.string(), clock, 100);
    expect(first.records).toEqual([]);
    const store = new IdempotencyStore<string>(clock, 60_000, 100, () => true, {
      ...first,
      onError: (e) => {
        throw e;
      },
    });
    let runs = 0;
    expect(await store.run('k', 1, async () => `run ${++runs}`)).toEqual({
      value: 'run 1',
      outcome: 'executed',
    });
    first.file.close();

    const again = IdempotencyFile.open(file, z.string(), clock, 100);
    expect(again.records).toEqual([{ key: 'k', value: 'run 1', expiresAt: T0 + 60_000 }]);
    const restarted = new IdempotencyStore<string>(clock, 60_000, 100, () => true, {
      ...again,
      onError: () => undefined,
    });
    expect(await restarted.run('k', 2, async () => `run ${++runs}`)).toEqual({
      value: 'run 1',
      outcome: 'replayed',
    });
    expect(runs).toBe(1);
    again.file.close();
  });

  it('skips expired records, torn lines and values failing the schema, and compacts the file', () => {
    const file = path.join(tempDir('nd-idem-'), 'keys.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ k: 'old', e: T0 - 1, v: 'x' }),
        JSON.stringify({ k: 'live', e: T0 + 5, v: 'first' }),
        JSON.stringify({ k: 'bad', e: T0 + 5, v: 42 }),
        JSON.stringify({ k: 'live', e: T0 + 9, v: 'second' }),
        '{"k":"torn","e":',
      ].join('\n'),
    );
    const opened = IdempotencyFile.open(file, z.string(), clockAt(T0), 100);
    expect(opened.records).toEqual([{ key: 'live', value: 'second', expiresAt: T0 + 9 }]);
    expect(opened.skipped).toBe(2);
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ k: 'live', e: T0 + 9, v: 'second' })}\n`);
    opened.file.close();
  });

  it('keeps the newest maxEntries records and compacts after many appends', () => {
    const file = path.join(tempDir('nd-idem-'), 'keys.jsonl');
    const lines = Array.from({ length: 5 }, (_, i) => JSON.stringify({ k: `k${i}`, e: T0 + 10, v: `v${i}` }));
    appendFileSync(file, lines.join('\n') + '\n');
    const opened = IdempotencyFile.open(file, z.string(), clockAt(T0), 2);
    expect(opened.records.map((r) => r.key)).toEqual(['k3', 'k4']);
    const live = [{ key: 'only', value: 'v', expiresAt: T0 + 10 }];
    for (let i = 0; i < 1000; i++)
      expect(
        opened.file.append({ key: `n${i}`, value: 'v', expiresAt: T0 + 10 }, () => live),
      ).toBeUndefined();
    expect(readFileSync(file, 'utf8')).toBe(`${JSON.stringify({ k: 'only', e: T0 + 10, v: 'v' })}\n`);
    opened.file.close();
  });

  it('names the file when it cannot be opened', () => {
    const dir = tempDir('nd-idem-');
    let error: unknown;
    try {
      IdempotencyFile.open(path.join(dir, 'missing', 'keys.jsonl'), z.string(), clockAt(T0), 10);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PatternValidationError);
    expect((error as PatternValidationError).message).toContain(path.join(dir, 'missing', 'keys.jsonl'));
    expect((error as PatternValidationError).details.field).toBe('idempotencyFile');
  });
});

describe('serveAgent idempotencyFile and deadlines', () => {
  it('an agent restarted with the same file answers a re-delivery from the record', async () => {
    const file = path.join(tempDir('nd-idem-'), 'agent.jsonl');
    const transport = new MemoryTransport();
    let runs = 0;
    const serve = () =>
      serveAgent({
        transport,
        logger,
        name: 'echo',
        capabilities: ['echo'],
        idempotencyFile: file,
        handler: (t) => ({ step: t.step, run: ++runs }),
      });
    const ask = async () => {
      const reply = await transport.request(
        'nd.agent.echo.task',
        encodeJson(toTaskRequest(task('a'), 'task')),
        {
          timeoutMs: 1000,
        },
      );
      return JSON.parse(decodeText(reply.data)) as unknown;
    };
    const first = await serve();
    expect(await ask()).toEqual({ version: 1, status: 'ok', output: { step: 'a', run: 1 } });
    await first.stop();
    const second = await serve();
    expect(await ask()).toEqual({ version: 1, status: 'ok', output: { step: 'a', run: 1 } });
    expect(runs).toBe(1);
    expect(second.stats()).toMatchObject({ executed: 0, deduplicated: 1 });
    await second.stop();
  });

  it('refuses a task whose deadline has passed with 408 without running the handler', async () => {
    const transport = new MemoryTransport();
    const clock = clockAt(T0);
    let runs = 0;
    const served = await serveAgent({
      transport,
      logger,
      clock,
      name: 'echo',
      capabilities: ['echo'],
      handler: () => ++runs,
    });
    const reply = await transport.request(
      'nd.agent.echo.task',
      encodeJson(toTaskRequest(task('late', T0 - 1), 'task')),
      { timeoutMs: 1000 },
    );
    expect(reply.headers['Nats-Service-Error-Code']).toBe('408');
    const body = JSON.parse(decodeText(reply.data)) as { status: string; error: { retryable: boolean } };
    expect(body.status).toBe('error');
    expect(body.error.retryable).toBe(true);
    expect(runs).toBe(0);
    expect(served.stats()).toMatchObject({ expired: 1, executed: 0 });
    const onTime = await transport.request(
      'nd.agent.echo.task',
      encodeJson(toTaskRequest(task('on-time', T0 + 1000), 'task')),
      { timeoutMs: 1000 },
    );
    expect(JSON.parse(decodeText(onTime.data))).toEqual({ version: 1, status: 'ok', output: 1 });
    await served.stop();
  });
});
