import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ConflictResolver, type Lease } from '../../src/resolver/conflictResolver.js';
import { serveConflictResolver } from '../../src/resolver/conflictResolverService.js';
import { RemoteConflictResolver } from '../../src/resolver/remoteConflictResolver.js';
import { resolverEventSchema, resolverReplySchema } from '../../src/resolver/resolverProtocol.js';
import { MemoryTransport } from '../../src/transport/MemoryTransport.js';
import { decodeText, encodeJson, type Transport } from '../../src/transport/Transport.js';
import { advance, flush } from '../../src/testing.js';

const logger = pino({ level: 'silent' });

/** A resolver served on an in-process bus; time is `clock` (the bus's request timeouts too). */
async function serve(options: { dropEvents?: boolean } = {}) {
  const clock = new SimulatedClock();
  const bus = new MemoryTransport({ clock });
  const resolver = new ConflictResolver({ clock });
  const transport = options.dropEvents ? dropPublishes(bus) : bus;
  const service = await serveConflictResolver({ transport, resolver, logger });
  return { clock, bus, resolver, service };
}

/** The bus as the service sees it when every event it publishes is lost. */
function dropPublishes(bus: MemoryTransport): Transport {
  return new Proxy(bus, {
    get(target, key) {
      if (key === 'publish') return () => undefined;
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** One raw protocol call: a client that can stop at any point (it has no heartbeat). */
async function call(bus: Transport, op: string, body: Record<string, unknown>) {
  const reply = await bus.request(`nd.resolver.${op}`, encodeJson({ version: 1, ...body }), {
    timeoutMs: 60_000,
  });
  return resolverReplySchema.parse(JSON.parse(decodeText(reply.data)));
}

/** `[type, requestId, message]` of every event published to a session, as they arrive. */
function eventsOf(bus: Transport, session: string): [string, string, string | undefined][] {
  const events: [string, string, string | undefined][] = [];
  bus.subscribe(`nd.resolver.events.${session}`, (m) => {
    const e = resolverEventSchema.parse(JSON.parse(decodeText(m.data)));
    events.push([e.type, e.requestId, e.message]);
  });
  return events;
}

const acquire = (session: string, requestId: string, names: string[], leaseMs: number) => ({
  session,
  requestId,
  owner: session,
  names,
  priority: 3,
  leaseMs,
});

describe('serveConflictResolver: bus sessions', () => {
  it('forgets the sessions of clients that acquired, released and left: after each wave of 20 the count is back to 0', async () => {
    const { clock, bus, resolver, service } = await serve();
    const peaks: number[] = [];
    const afterRelease: number[] = [];
    const afterClose: number[] = [];
    const served: string[][] = [];
    for (let wave = 0; wave < 5; wave++) {
      const clients = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          RemoteConflictResolver.connect({ transport: bus, clock, session: `w${wave}c${i}`, leaseMs: 3000 }),
        ),
      );
      const [first, ...rest] = clients;
      const held = await first!.acquireLease(['db'], { owner: `w${wave}/0`, priority: 3 });
      const order: string[] = [];
      const done = rest.map((c, i) =>
        c.acquireLease(['db'], { owner: `w${wave}/${i + 1}`, priority: 3 }).then(async (lease) => {
          order.push(lease.owner);
          await lease.release();
        }),
      );
      await flush();
      peaks.push(service.sessionCount());
      await held.release();
      await Promise.all(done);
      afterRelease.push(service.sessionCount());
      await Promise.all(clients.map((c) => c.close()));
      afterClose.push(service.sessionCount());
      served.push(order);
    }
    expect(peaks).toEqual([20, 20, 20, 20, 20]);
    expect(afterRelease).toEqual([0, 0, 0, 0, 0]);
    expect(afterClose).toEqual([0, 0, 0, 0, 0]);
    expect(served[4]).toEqual(Array.from({ length: 19 }, (_, i) => `w4/${i + 1}`));
    expect(resolver.table.hasSession('w0c0')).toBe(false);
    expect(resolver.detectConflicts().conflicts).toEqual([]);
  });

  it('a holder that dies: its lease expires, the next waiter gets the resource, both sessions are forgotten, and the dead one can come back', async () => {
    const { clock, bus, service } = await serve();
    const deadEvents = eventsOf(bus, 'dead');
    expect(await call(bus, 'acquire', acquire('dead', 'dead-1', ['gpu'], 300))).toEqual({
      version: 1,
      status: 'ok',
      granted: true,
    });
    const next = await RemoteConflictResolver.connect({
      transport: bus,
      clock,
      session: 'next',
      leaseMs: 3000,
    });
    let lease: Lease | undefined;
    const granted = next.acquireLease(['gpu'], { owner: 'next', priority: 5 }).then((l) => (lease = l));
    await advance(clock, 299);
    expect(lease).toBeUndefined();
    expect(service.sessionCount()).toBe(2);
    await advance(clock, 1);
    expect((await granted).names).toEqual(['gpu']);
    expect(deadEvents).toEqual([
      ['granted', 'dead-1', undefined],
      ['revoked', 'dead-1', 'lease of dead on gpu expired (session dead stopped renewing)'],
    ]);
    expect(service.sessionCount()).toBe(1);
    await lease?.release();
    expect(service.sessionCount()).toBe(0);

    // the dead session comes back: unknown to renew, served again by acquire
    expect(await call(bus, 'renew', { session: 'dead' })).toEqual({
      version: 1,
      status: 'ok',
      known: false,
      held: [],
      waiting: [],
    });
    expect(service.sessionCount()).toBe(0);
    expect(await call(bus, 'acquire', acquire('dead', 'dead-2', ['gpu'], 300))).toMatchObject({
      status: 'ok',
      granted: true,
    });
    expect(service.sessionCount()).toBe(1);
    expect(await call(bus, 'release', { session: 'dead', requestId: 'dead-2' })).toEqual({
      version: 1,
      status: 'ok',
    });
    expect(service.sessionCount()).toBe(0);
    await next.close();
  });

  it('one expiry that ends a session reports every request of it before forgetting it', async () => {
    const { clock, bus, service } = await serve();
    expect(await call(bus, 'acquire', acquire('other', 'o-1', ['b'], 60_000))).toMatchObject({
      status: 'ok',
      granted: true,
    });
    // the client's own clock stands still: its renewals stop, as in a paused or partitioned process
    const paused = await RemoteConflictResolver.connect({
      transport: bus,
      clock: new SimulatedClock(),
      session: 'p',
      leaseMs: 300,
    });
    const a = await paused.acquireLease(['a'], { owner: 'p', priority: 3 });
    let b = 'waiting';
    void paused.acquireLease(['b'], { owner: 'p', priority: 3 }).then(
      () => (b = 'granted'),
      (e: Error) => (b = e.message),
    );
    await flush();
    expect(service.sessionCount()).toBe(2);
    await advance(clock, 300);
    expect((a.signal.reason as Error).message).toBe('lease of p on a expired (session p stopped renewing)');
    expect(b).toBe('session p of p expired while waiting');
    expect(service.sessionCount()).toBe(1);

    // back from the pause, the same session acquires again
    const again = await paused.acquireLease(['a'], { owner: 'p', priority: 3 });
    expect(again.names).toEqual(['a']);
    expect(service.sessionCount()).toBe(2);
    await paused.close();
    expect(service.sessionCount()).toBe(1);
  });

  it('a client that closes while waiting withdraws its request: its session is forgotten without waiting for its lease', async () => {
    const { clock, bus, service } = await serve();
    expect(await call(bus, 'acquire', acquire('holder', 'h-1', ['db'], 60_000))).toMatchObject({
      status: 'ok',
      granted: true,
    });
    const leaving = await RemoteConflictResolver.connect({ transport: bus, clock, session: 'leaving' });
    const waiting = leaving.acquire(['db'], { owner: 'leaving', priority: 3 }).then(
      () => 'granted',
      (e: Error) => e.message,
    );
    await flush();
    expect(service.sessionCount()).toBe(2);
    await leaving.close();
    expect(await waiting).toBe('resolver client closed');
    await flush(); // the failed acquisition withdraws its request
    expect(service.sessionCount()).toBe(1);
    expect(await call(bus, 'renew', { session: 'leaving' })).toMatchObject({ known: false, waiting: [] });
  });

  it('a lost revocation is reconciled by the next renewal, with an error naming the expired session', async () => {
    const { clock, bus, service } = await serve({ dropEvents: true });
    const clientClock = new SimulatedClock();
    const client = await RemoteConflictResolver.connect({
      transport: bus,
      clock: clientClock,
      session: 's9',
      leaseMs: 300,
    });
    const lease = await client.acquireLease(['a'], { owner: 'o9', priority: 3 });
    await advance(clock, 300);
    expect(service.sessionCount()).toBe(0);
    expect(lease.signal.aborted).toBe(false);
    await advance(clientClock, 100);
    expect(lease.signal.aborted).toBe(true);
    expect((lease.signal.reason as Error).message).toBe(
      'lease s9-1 lost (the resolver no longer knows session s9: its lease expired (no renewal within 300 ms) or its requests were released)',
    );
    await client.close();
  });
});
