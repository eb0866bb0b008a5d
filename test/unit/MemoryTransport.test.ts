import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { MemoryTransport } from '../../src/transport/MemoryTransport.js';
import { subjectMatches } from '../../src/transport/subjects.js';
import {
  decodeText,
  encodeJson,
  isTransportError,
  type TransportError,
} from '../../src/transport/Transport.js';

const flush = () => new Promise((r) => setImmediate(r));

async function failure(p: Promise<unknown>): Promise<TransportError> {
  const e = await p.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (!isTransportError(e)) throw new Error(`expected a TransportError, got ${String(e)}`);
  return e;
}

describe('MemoryTransport', () => {
  it('matches subjects like NATS', () => {
    expect(subjectMatches('a.*.c', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.>', 'a.b.c')).toBe(true);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('$SRV.PING', '$SRV.PING')).toBe(true);
  });

  it('delivers to every plain subscriber and one member of each queue group, round-robin', async () => {
    const bus = new MemoryTransport();
    const got: string[] = [];
    bus.subscribe('work.*', (m) => got.push(`plain:${decodeText(m.data)}`));
    bus.subscribe('work.x', (m) => got.push(`q1:${decodeText(m.data)}`), { queue: 'q' });
    bus.subscribe('work.x', (m) => got.push(`q2:${decodeText(m.data)}`), { queue: 'q' });
    for (const n of ['1', '2', '3', '4']) bus.publish('work.x', new TextEncoder().encode(n));
    await flush();
    expect(got.filter((g) => g.startsWith('plain'))).toHaveLength(4);
    expect(got.filter((g) => g.startsWith('q1')).length).toBe(2);
    expect(got.filter((g) => g.startsWith('q2')).length).toBe(2);
  });

  it('answers requests, fails fast with no responders, and times out on the injected clock', async () => {
    const clock = new SimulatedClock();
    const bus = new MemoryTransport({ clock });
    bus.subscribe('echo', (m) => m.respond(m.data, { 'X-Seen': m.headers['X-In'] ?? '' }));
    bus.subscribe('silent', () => undefined);
    const reply = await bus.request('echo', encodeJson({ a: 1 }), {
      timeoutMs: 100,
      headers: { 'X-In': 'yes' },
    });
    expect(JSON.parse(decodeText(reply.data))).toEqual({ a: 1 });
    expect(reply.headers).toEqual({ 'X-Seen': 'yes' });
    expect((await failure(bus.request('nobody', encodeJson(1), { timeoutMs: 100 }))).kind).toBe(
      'noResponders',
    );
    const pending = bus.request('silent', encodeJson(1), { timeoutMs: 100 });
    await flush();
    clock.increment(100);
    const timeout = await failure(pending);
    expect(timeout.kind).toBe('timeout');
    expect(timeout.message).toBe('request to silent timed out after 100 ms');
  });

  it('collects many replies, refuses oversized payloads and stops when closed', async () => {
    const bus = new MemoryTransport({ maxPayload: 10 });
    bus.subscribe('ping', (m) => m.respond(encodeJson('a')));
    bus.subscribe('ping', (m) => m.respond(encodeJson('b')));
    const replies = await bus.requestMany('ping', new Uint8Array(0), { maxWaitMs: 1000, maxMessages: 2 });
    expect(replies.map((r) => JSON.parse(decodeText(r.data)) as string).sort()).toEqual(['a', 'b']);
    expect(() => bus.publish('ping', new Uint8Array(11))).toThrow(
      /11 bytes to ping exceeds the 10-byte limit/,
    );
    const statuses: string[] = [];
    bus.onStatus((s) => statuses.push(s.type));
    await bus.close();
    expect(bus.connected).toBe(false);
    expect(statuses).toEqual(['closed']);
    expect((await failure(bus.request('ping', new Uint8Array(1), { timeoutMs: 10 }))).kind).toBe('closed');
  });
});

describe('MemoryTransport status listeners', () => {
  it('a listener that throws neither fails close() nor keeps the others from hearing it', async () => {
    const transport = new MemoryTransport();
    const heard: string[] = [];
    transport.onStatus(() => {
      throw new Error('listener bug');
    });
    transport.onStatus((s) => heard.push(s.type));
    const previous = process.env['ND_LOG_LEVEL'];
    process.env['ND_LOG_LEVEL'] = 'silent';
    try {
      await expect(transport.close()).resolves.toBeUndefined();
    } finally {
      if (previous === undefined) delete process.env['ND_LOG_LEVEL'];
      else process.env['ND_LOG_LEVEL'] = previous;
    }
    expect(heard).toEqual(['closed']);
  });
});
