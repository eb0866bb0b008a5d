import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { remoteAgent } from '../../src/actors/remoteAgent.js';
import { serveAgent, type ServedAgent } from '../../src/actors/serveAgent.js';
import { isAgentError, isPatternValidationError } from '../../src/core/errors.js';
import { toTaskRequest } from '../../src/protocol/protocol.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { decodeText, encodeJson } from '../../src/transport/Transport.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { baseTask } from './retry.js';

const logger = pino({ level: 'silent' });
let server: NatsServer;
let transport: NatsTransport;
let served: ServedAgent;

beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
  transport = await NatsTransport.connect({ servers: server.url }, { logger });
  served = await serveAgent({
    transport,
    logger,
    name: 'strict',
    capabilities: ['echo'],
    maxMessageBytes: 16 * 1024,
    handler: (t) => (t.step === 'huge' ? 'x'.repeat(32 * 1024) : { ok: t.step }),
  });
});
afterAll(async () => {
  await served?.stop();
  await transport?.close();
  await server?.stop();
});

const task = (step: string) => ({
  ...baseTask('run-m', step),
  attempt: 1,
  signal: new AbortController().signal,
});
const reject = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error & { details: { retryable?: boolean } },
  );

describe('malformed, oversized and wrong-version messages over NATS', () => {
  it('agent side: answers each with an error reply and the service error headers, then keeps serving', async () => {
    const ask = async (data: Uint8Array) => {
      const reply = await transport.request('nd.agent.strict.task', data, { timeoutMs: 2000 });
      const body = JSON.parse(decodeText(reply.data)) as { status: string; error: { message: string } };
      return {
        code: reply.headers['Nats-Service-Error-Code'],
        header: reply.headers['Nats-Service-Error'],
        body,
      };
    };
    const garbage = await ask(new TextEncoder().encode('\u0000not json'));
    expect(garbage.code).toBe('400');
    expect(garbage.header).toMatch(/strict\.task request: not valid JSON/);
    const wrongVersion = await ask(encodeJson({ ...toTaskRequest(task('a'), 'task'), version: 3 }));
    expect(wrongVersion.body.error.message).toBe(
      'strict.task request: unsupported protocol version 3 (this side speaks version 1)',
    );
    const missing = await ask(encodeJson({ version: 1, kind: 'task' }));
    expect(missing.body.error.message).toMatch(/strict\.task request\.runId/);
    const oversized = await ask(
      encodeJson({ ...toTaskRequest(task('a'), 'task'), pad: 'y'.repeat(20 * 1024) }),
    );
    expect(oversized.code).toBe('413');
    const agent = remoteAgent({
      transport,
      name: 'strict',
      capabilities: ['echo'],
      maxMessageBytes: 64 * 1024,
    });
    expect(await agent.execute(task('after'))).toEqual({ ok: 'after' });
    const tooBigReply = await reject(agent.execute(task('huge')));
    expect(tooBigReply.message).toMatch(/reply of \d+ bytes exceeds the 16384-byte limit/);
    expect(tooBigReply.details.retryable).toBe(false);
    expect(served.stats().rejected).toBe(4);
  });

  it('client side: rejects garbage, wrong-version, header-only and oversized replies with clear errors', async () => {
    const fakes = [
      transport.subscribe('nd.agent.garbage.task', (m) => m.respond(new TextEncoder().encode('<html>'))),
      transport.subscribe('nd.agent.future.task', (m) =>
        m.respond(encodeJson({ version: 2, status: 'ok', output: 1 })),
      ),
      transport.subscribe('nd.agent.headers.task', (m) =>
        m.respond(new Uint8Array(0), {
          'Nats-Service-Error-Code': '503',
          'Nats-Service-Error': 'overloaded',
        }),
      ),
      transport.subscribe('nd.agent.bloated.task', (m) =>
        m.respond(encodeJson({ version: 1, status: 'ok', output: 'z'.repeat(8000) })),
      ),
    ];
    try {
      const call = (name: string) =>
        reject(
          remoteAgent({ transport, name, capabilities: ['echo'], maxMessageBytes: 4096 }).execute(task('s')),
        );
      const garbage = await call('garbage');
      expect(isAgentError(garbage)).toBe(true);
      expect(garbage.message).toMatch(
        /^remote agent garbage sent an invalid reply: reply of garbage: not valid JSON/,
      );
      expect(garbage.details.retryable).toBe(false);
      expect((await call('future')).message).toMatch(/unsupported protocol version 2/);
      const headers = await call('headers');
      expect(headers.message).toBe('remote agent headers failed with 503: overloaded');
      expect(headers.details.retryable).toBe(true);
      expect((await call('bloated')).message).toMatch(
        /reply of bloated: message of \d+ bytes exceeds the 4096-byte limit/,
      );
      const oversizedRequest = await reject(
        remoteAgent({ transport, name: 'strict', capabilities: ['echo'], maxMessageBytes: 1024 }).execute({
          ...task('big'),
          input: { params: 'p'.repeat(2048), runInput: null, results: {} },
        }),
      );
      expect(isPatternValidationError(oversizedRequest)).toBe(true);
      expect(oversizedRequest.message).toMatch(
        /task big for remote agent strict is \d+ bytes, over the 1024-byte limit/,
      );
    } finally {
      for (const f of fakes) f.unsubscribe();
    }
  });
});
