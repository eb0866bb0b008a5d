import { connect } from '@nats-io/transport-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AttemptCancellation } from '../../src/core/cancellation.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { encodeJson, type TransportError } from '../../src/transport/Transport.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

const logger = pino({ level: 'silent' });
let server: NatsServer;
let transport: NatsTransport;

beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
  transport = await NatsTransport.connect({ servers: server.url, name: 'mux' }, { logger });
});
afterAll(async () => {
  await transport?.close();
  await server?.stop();
});

const decodeJson = (data: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(data));

const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: TransportError) => `${e.kind}: ${e.message}`,
  );

describe('NatsTransport request/reply (one reply inbox per connection)', () => {
  it('matches concurrent replies to their requests, with headers both ways', async () => {
    const sub = transport.subscribe('mux.echo', (m) =>
      // answer in reverse arrival order, so replies come back out of order
      setTimeout(() => m.respond(m.data, { seen: m.headers['x-n'] ?? '' }), 50 - Number(m.headers['x-n'])),
    );
    try {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, n) =>
          transport.request('mux.echo', encodeJson({ n }), {
            timeoutMs: 2000,
            headers: { 'x-n': String(n) },
          }),
        ),
      );
      expect(replies.map((r) => decodeJson(r.data))).toEqual(Array.from({ length: 20 }, (_, n) => ({ n })));
      expect(replies.map((r) => r.headers['seen'])).toEqual(Array.from({ length: 20 }, (_, n) => String(n)));
    } finally {
      sub.unsubscribe();
    }
  });

  it('fails fast with noResponders when nobody listens', async () => {
    const started = Date.now();
    expect(await failure(transport.request('mux.nobody', encodeJson(1), { timeoutMs: 5000 }))).toBe(
      'noResponders: no responders are listening on mux.nobody',
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('times out, and ignores the reply that comes too late', async () => {
    const sub = transport.subscribe('mux.slow', (m) => setTimeout(() => m.respond(m.data), 200));
    try {
      expect(await failure(transport.request('mux.slow', encodeJson(1), { timeoutMs: 50 }))).toBe(
        'timeout: request to mux.slow timed out after 50 ms',
      );
      await new Promise((r) => setTimeout(r, 250)); // the late reply arrives and is dropped
      const reply = await transport.request('mux.slow', encodeJson(2), { timeoutMs: 1000 });
      expect(decodeJson(reply.data)).toBe(2);
    } finally {
      sub.unsubscribe();
    }
  });

  it('stops waiting when the AbortSignal or AttemptCancellation aborts', async () => {
    const sub = transport.subscribe('mux.never', () => undefined);
    try {
      const controller = new AbortController();
      const bySignal = failure(
        transport.request('mux.never', encodeJson(1), { timeoutMs: 5000, signal: controller.signal }),
      );
      const cancellation = new AttemptCancellation();
      const byCancellation = failure(
        transport.request('mux.never', encodeJson(1), { timeoutMs: 5000, signal: cancellation }),
      );
      controller.abort();
      cancellation.abort();
      expect(await bySignal).toBe('aborted: request to mux.never aborted');
      expect(await byCancellation).toBe('aborted: request to mux.never aborted');
      expect(
        await failure(
          transport.request('mux.never', encodeJson(1), { timeoutMs: 5000, signal: cancellation }),
        ),
      ).toBe('aborted: request to mux.never aborted');
    } finally {
      sub.unsubscribe();
    }
  });

  it('fails the requests still waiting when the transport closes', async () => {
    const own = await NatsTransport.connect({ servers: server.url, name: 'closing' }, { logger });
    const sub = transport.subscribe('mux.hold', () => undefined);
    await transport.connection.flush(); // the server knows the subscription before `own` sends
    try {
      const waiting = failure(own.request('mux.hold', encodeJson(1), { timeoutMs: 5000 }));
      await new Promise((r) => setTimeout(r, 20));
      await own.close();
      expect(await waiting).toBe('closed: transport closed while waiting for a reply');
    } finally {
      sub.unsubscribe();
    }
  });

  it('uses the inbox prefix of a connection it wraps', async () => {
    const nc = await connect({ servers: server.url, inboxPrefix: '_MUXTEST' });
    const wrapped = NatsTransport.fromConnection(nc, { logger });
    const replyTo: string[] = [];
    const sub = transport.subscribe('mux.where', (m) => {
      replyTo.push(m.reply ?? '');
      m.respond(m.data);
    });
    await transport.connection.flush();
    try {
      await wrapped.request('mux.where', encodeJson(1), { timeoutMs: 2000 });
      expect(replyTo[0]).toMatch(/^_MUXTEST\.\w+\.0$/);
    } finally {
      sub.unsubscribe();
      await wrapped.close();
      await nc.close();
    }
  });
});
