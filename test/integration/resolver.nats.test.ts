import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictResolver } from '../../src/resolver/conflictResolver.js';
import { serveConflictResolver, type ServedResolver } from '../../src/resolver/conflictResolverService.js';
import { RemoteConflictResolver } from '../../src/resolver/remoteConflictResolver.js';
import { isResourceExhaustionError } from '../../src/core/errors.js';
import { NatsTransport } from '../../src/transport/NatsTransport.js';
import { decodeText, encodeJson } from '../../src/transport/Transport.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { startFixture } from './processes.js';

const logger = pino({ level: 'silent' });
let server: NatsServer;
let transport: NatsTransport;
let service: ServedResolver;

beforeAll(async () => {
  server = await startNatsServer({ jetstream: false });
  transport = await NatsTransport.connect({ servers: server.url }, { logger });
  service = await serveConflictResolver({ transport, logger, resolver: new ConflictResolver() });
});
afterAll(async () => {
  await service?.stop();
  await transport?.close();
  await server?.stop();
});

describe('conflict resolver over NATS', () => {
  it('a resource holder that dies: its lease expires and the next waiter gets the resource', async () => {
    const holder = startFixture('holderProcess', { NATS_URL: server.url, LEASE_MS: '600', RESOURCE: 'db' });
    const waiter = await RemoteConflictResolver.connect({ transport, leaseMs: 5000 });
    try {
      await holder.waitFor(/^held/);
      const granted = waiter.acquireLease(['db'], { owner: 'next', priority: 5 });
      const race = await Promise.race([
        granted.then(() => 'granted'),
        new Promise((r) => setTimeout(() => r('waiting'), 700)),
      ]);
      expect(race).toBe('waiting');
      const killedAt = Date.now();
      await holder.kill();
      const lease = await granted;
      const waited = Date.now() - killedAt;
      expect(lease.names).toEqual(['db']);
      expect(waited).toBeLessThan(3000);
      expect(
        service.resolver
          .getConflictHistory()
          .some((r) => r.kind === 'leaseExpired' && r.resources.includes('db')),
      ).toBe(true);
      await lease.release();
      // the dead holder's session went with its lease, the waiter's with its release
      expect(service.sessionCount()).toBe(0);
    } finally {
      await holder.kill();
      await waiter.close();
    }
  });

  it('reports a deadlock across two remote clients, naming the cycle', async () => {
    const c1 = await RemoteConflictResolver.connect({ transport, session: 'c1' });
    const c2 = await RemoteConflictResolver.connect({ transport, session: 'c2' });
    try {
      const r1 = await c1.acquire(['x'], { owner: 'alpha', priority: 1 });
      const r2 = await c2.acquire(['y'], { owner: 'beta', priority: 5 });
      const alphaWaits = c1.acquire(['y'], { owner: 'alpha', priority: 1 });
      const error = await c2.acquire(['x'], { owner: 'beta', priority: 5 }).then(
        () => undefined,
        (e: unknown) => e as Error & { details: { cycle?: string[] } },
      );
      expect(isResourceExhaustionError(error)).toBe(true);
      expect(error?.details.cycle).toEqual(['beta', 'alpha', 'beta']);
      expect(error?.message).toMatch(/^deadlock beta → alpha → beta/);
      await r2();
      const release = await alphaWaits;
      await release();
      await r1();
      expect(service.sessionCount()).toBe(0);
      const report = await c1.detectConflicts();
      expect(report.deadlocks).toEqual([]);
      expect((await c1.getConflictHistory()).some((r) => r.kind === 'deadlock')).toBe(true);
    } finally {
      await c1.close();
      await c2.close();
    }
  });

  it('answers malformed resolver messages with an error reply', async () => {
    const reply = await transport.request(
      'nd.resolver.acquire',
      encodeJson({ version: 1, session: 'bad session!', names: [] }),
      { timeoutMs: 2000 },
    );
    const body = JSON.parse(decodeText(reply.data)) as { status: string; error: { message: string } };
    expect(body.status).toBe('error');
    expect(body.error.message).toMatch(/resolver\.acquire\.session/);
    expect(body.error.message).toMatch(/resolver\.acquire\.names/);
  });
});
