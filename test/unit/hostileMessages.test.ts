import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { serveAgent } from '../../src/actors/serveAgent.js';
import { isPatternValidationError } from '../../src/core/errors.js';
import { rateLimitedWarn } from '../../src/core/rateLimitedWarn.js';
import {
  MAX_MESSAGE_DEPTH,
  decodeMessage,
  nestingDepth,
  taskRequestSchema,
  toTaskRequest,
} from '../../src/protocol/protocol.js';
import { MemoryTransport } from '../../src/transport/MemoryTransport.js';
import { decodeText } from '../../src/transport/Transport.js';

function nested(levels: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { x: value };
  return value;
}

/** A task request whose params are nested `levels` deep, written as text (JSON.stringify would overflow). */
function deepRequest(levels: number): Uint8Array {
  const text = JSON.stringify(request('PARAMS')).replace(
    '"PARAMS"',
    `${'{"x":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`,
  );
  return new TextEncoder().encode(text);
}

function request(params: unknown): ReturnType<typeof toTaskRequest> {
  return toTaskRequest(
    {
      runId: 'r1',
      pattern: 'p',
      step: 's',
      capability: 'echo',
      attempt: 1,
      idempotencyKey: 'r1/s',
      input: { params, runInput: null, results: {} },
      context: { domain: 'general', agentType: 'general', priority: 1, attributes: {} },
    } as Parameters<typeof toTaskRequest>[0],
    'task',
  );
}

/** A logger that records its warnings. */
function recorder(): {
  warn: (obj: Record<string, unknown>, msg: string) => void;
  lines: [Record<string, unknown>, string][];
} {
  const lines: [Record<string, unknown>, string][] = [];
  return { lines, warn: (obj, msg) => void lines.push([obj, msg]) };
}

/** A pino logger at warn level whose lines are kept as parsed objects. */
function pinoRecorder(): { logger: pino.Logger; lines: { msg: string; suppressed?: number }[] } {
  const lines: { msg: string; suppressed?: number }[] = [];
  const logger = pino(
    { level: 'warn' },
    { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) },
  );
  return { logger, lines };
}

describe('message depth bound', () => {
  it('measures depth without recursion, stopping past the limit', () => {
    expect(nestingDepth('x', 10)).toBe(0);
    expect(nestingDepth([], 10)).toBe(1);
    expect(nestingDepth({ a: [1, { b: 2 }] }, 10)).toBe(3);
    expect(nestingDepth(nested(100_000), 128)).toBe(129);
  });

  it('refuses a 10,000-level input as a non-retryable validation error, and accepts one at the limit', () => {
    const deep = deepRequest(10_000);
    let error: unknown;
    try {
      decodeMessage(taskRequestSchema, deep, 'echo.task request');
    } catch (e) {
      error = e;
    }
    expect(isPatternValidationError(error)).toBe(true);
    expect((error as Error).message).toBe(
      `echo.task request: message nested more than ${MAX_MESSAGE_DEPTH} levels deep (objects and arrays inside each other)`,
    );
    expect((error as { details: { retryable?: boolean } }).details.retryable).toBe(false);
    // request → input → params: 3 levels of envelope
    const atLimit = deepRequest(MAX_MESSAGE_DEPTH - 3);
    expect(decodeMessage(taskRequestSchema, atLimit, 'w').step).toBe('s');
  });

  it('serveAgent answers a 10,000-level request with 400 and does not run the handler', async () => {
    const transport = new MemoryTransport();
    let runs = 0;
    const log = pinoRecorder();
    const served = await serveAgent({
      transport,
      logger: log.logger,
      name: 'echo',
      capabilities: ['echo'],
      handler: () => ++runs,
    });
    const reply = await transport.request('nd.agent.echo.task', deepRequest(10_000), {
      timeoutMs: 5000,
    });
    const body = JSON.parse(decodeText(reply.data)) as {
      status: string;
      error: { retryable: boolean; message: string };
    };
    expect(body.status).toBe('error');
    expect(body.error.retryable).toBe(false);
    expect(body.error.message).toMatch(/nested more than 128 levels/);
    expect(reply.headers['Nats-Service-Error-Code']).toBe('400');
    expect(runs).toBe(0);
    await served.stop();
  });

  it('serveAgent logs one warning line for 1,000 garbage messages', async () => {
    const transport = new MemoryTransport();
    const log = pinoRecorder();
    const served = await serveAgent({
      transport,
      logger: log.logger,
      name: 'echo',
      capabilities: ['echo'],
      handler: () => 1,
    });
    const garbage = new TextEncoder().encode('{not json');
    await Promise.all(
      Array.from({ length: 1000 }, () =>
        transport.request('nd.agent.echo.task', garbage, { timeoutMs: 5000 }),
      ),
    );
    expect(log.lines.filter((line) => line.msg === 'rejected request')).toHaveLength(1);
    expect(served.stats().rejected).toBe(1000);
    await served.stop();
  });
});

describe('rateLimitedWarn', () => {
  it('logs the first warning per key, then one per interval with the count suppressed', () => {
    let t = 0;
    const log = recorder();
    const warn = rateLimitedWarn(log, { intervalMs: 1000, now: () => t });
    for (let i = 0; i < 5; i++) warn({ i }, 'bad');
    warn({}, 'other');
    t = 999;
    warn({ i: 5 }, 'bad');
    t = 1000;
    warn({ i: 6 }, 'bad');
    t = 1500;
    warn({ i: 7 }, 'bad');
    t = 2000;
    warn({ i: 8 }, 'bad');
    expect(log.lines).toEqual([
      [{ i: 0 }, 'bad'],
      [{}, 'other'],
      [{ i: 6, suppressed: 5 }, 'bad'],
      [{ i: 8, suppressed: 1 }, 'bad'],
    ]);
  });
});
