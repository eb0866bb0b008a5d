/**
 * Leases with fencing against a private nats-server: two contenders, takeover after expiry,
 * release, and a holder whose connection is paused past its TTL: it observes the loss, cannot
 * renew, and its fenced journal append fails while the new holder's succeed.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLeaseLostError, type LeaseLostError } from '../../src/cluster/errors.js';
import { LeaseManager } from '../../src/cluster/leases/LeaseManager.js';
import { isPatternValidationError } from '../../src/core/errors.js';
import { isRunStoreError, StoreErrorCode } from '../../src/store/errors.js';
import { JetStreamRunStore } from '../../src/store/jetstream/JetStreamRunStore.js';
import { completed, dispatched, started } from '../unit/store/facts.js';
import { startNatsServer, type NatsServer } from './natsServer.js';
import { startPausableProxy } from './pausableProxy.js';

const TTL = 600;
let server: NatsServer;
const connections: NatsConnection[] = [];
let n = 0;

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
  await server?.stop();
});

const conn = async (url = server.url) => {
  const c = await connect({ servers: url });
  connections.push(c);
  return c;
};
/** Two managers on two connections sharing a bucket of their own. */
const contenders = async (ttlMs = TTL) => {
  n += 1;
  const bucket = `leases_${n}`;
  const a = await LeaseManager.open({ connection: await conn(), owner: 'A', ttlMs, bucket });
  const b = await LeaseManager.open({ connection: await conn(), owner: 'B', ttlMs, bucket });
  return { a, b, bucket };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('leases on runs', () => {
  it('gives a free lease to exactly one of two contenders, and the holder keeps it by renewing', async () => {
    const { a, b } = await contenders();
    const [la, lb] = await Promise.all([a.tryAcquire('run.1'), b.tryAcquire('run.1')]);
    expect([la, lb].filter((l) => l !== undefined)).toHaveLength(1);
    const [holder, other] = la ? [la, b] : [lb!, a];
    const first = holder.token;
    // The other keeps trying for three TTLs: renewals move the revision, so it never sees the
    // same revision for a whole TTL.
    for (let i = 0; i < 12; i++) {
      expect(await other.tryAcquire('run.1')).toBeUndefined();
      await sleep(TTL / 4);
    }
    expect(holder.signal.aborted).toBe(false);
    expect(holder.token).toBeGreaterThan(first);
    expect((await other.holder('run.1'))?.owner).toBe(holder.owner);
    await holder.release();
    expect(holder.signal.aborted).toBe(true);
    const next = await other.tryAcquire('run.1'); // released: taken at once
    expect(next?.owner).toBe(other.owner);
    await Promise.all([a.close(), b.close()]);
  });

  it('lets a contender take over a lease whose holder died, within 2 × TTL of its death', async () => {
    const { a, b, bucket } = await contenders();
    const dying = await conn();
    const d = await LeaseManager.open({ connection: dying, owner: 'D', ttlMs: TTL, bucket });
    const lease = await d.tryAcquire('run-2');
    expect(lease?.owner).toBe('D');
    const waiting = b.acquire('run-2');
    await sleep(TTL);
    const diedAt = Date.now();
    await dying.close(); // no more renewals, no release
    const taken = await waiting;
    const takeoverMs = Date.now() - diedAt;
    expect(taken.owner).toBe('B');
    expect(taken.token).toBeGreaterThan(lease!.token);
    expect(takeoverMs).toBeLessThanOrEqual(2 * TTL);
    expect((await a.holder('run-2'))?.owner).toBe('B');
    await sleep(TTL * 1.2);
    expect(lease!.signal.aborted).toBe(true); // the dead holder's own deadline passed too
    expect((lease!.lost as LeaseLostError).reason).toBe('expired');
    await Promise.all([a.close(), b.close()]);
  });

  it('a holder paused past its TTL observes the loss, cannot renew, and its fenced append fails', async () => {
    n += 1;
    const names = { stream: `L${n}`, subjectPrefix: `l${n}.journal`, bucket: `l${n}_runs` };
    const proxy = await startPausableProxy(server.port);
    const viaProxy = await conn(proxy.url);
    const direct = await conn();
    const bucket = `leases_p${n}`;
    const a = await LeaseManager.open({ connection: viaProxy, owner: 'A', ttlMs: TTL, bucket });
    const b = await LeaseManager.open({ connection: direct, owner: 'B', ttlMs: TTL, bucket });
    const storeA = await JetStreamRunStore.open({ connection: viaProxy, ...names });
    const storeB = await JetStreamRunStore.open({ connection: direct, ...names });

    const leaseA = (await a.tryAcquire('run-3'))!;
    const fenceA = () => leaseA.fence();
    await storeA.append('run-3', [started(), dispatched('build')], { expectedSeq: 0, fence: fenceA });
    const tokenBefore = leaseA.token;
    const lostAt = new Promise<number>((resolve) =>
      leaseA.signal.addEventListener('abort', () => resolve(Date.now()), { once: true }),
    );
    const pausedAt = Date.now();
    proxy.pause();
    const leaseB = await b.acquire('run-3');
    const lostAfterMs = (await lostAt) - pausedAt;
    expect(isLeaseLostError(leaseA.signal.reason)).toBe(true);
    expect(lostAfterMs).toBeLessThanOrEqual(TTL + 250); // its deadline, plus timer lateness on a loaded machine
    expect(leaseB.token).toBeGreaterThan(tokenBefore);
    const journal = await storeB.read('run-3');
    await storeB.append('run-3', [completed('build')], {
      expectedSeq: journal.length,
      fence: () => leaseB.fence(),
    });

    expect(() => leaseA.check()).toThrow(/no longer held by A: expired/);
    leaseB.check();
    proxy.resume();
    await expect(leaseA.fence()).rejects.toSatisfy(isLeaseLostError);
    await expect(
      storeA.append('run-3', [dispatched('deploy')], { expectedSeq: 3, fence: fenceA }),
    ).rejects.toSatisfy((e) => isLeaseLostError(e) && e.reason === 'expired');
    expect((await storeB.read('run-3')).map((e) => e.kind)).toEqual([
      'runStarted',
      'attemptDispatched',
      'stepCompleted',
    ]);
    expect((await b.holder('run-3'))?.owner).toBe('B');
    expect(leaseB.signal.aborted).toBe(false);
    await Promise.all([a.close(), b.close(), storeA.close(), storeB.close()]);
    await proxy.close();
  });

  it('an append already in flight when the holder was partitioned cannot land after the new holder wrote', async () => {
    n += 1;
    const names = { stream: `F${n}`, subjectPrefix: `f${n}.journal`, bucket: `f${n}_runs` };
    const proxy = await startPausableProxy(server.port);
    const viaProxy = await conn(proxy.url);
    const direct = await conn();
    const bucket = `leases_f${n}`;
    const a = await LeaseManager.open({ connection: viaProxy, owner: 'A', ttlMs: TTL, bucket });
    const b = await LeaseManager.open({ connection: direct, owner: 'B', ttlMs: TTL, bucket });
    const storeA = await JetStreamRunStore.open({ connection: viaProxy, ...names, requestTimeoutMs: 3000 });
    const storeB = await JetStreamRunStore.open({ connection: direct, ...names });
    const leaseA = (await a.tryAcquire('run-4'))!;
    await storeA.append('run-4', [started(), dispatched('build')], {
      expectedSeq: 0,
      fence: async () => leaseA.check(),
    });
    proxy.pause();
    // A's fence passes (its deadline is ahead), then its publish is held by the partition.
    const late = storeA
      .append('run-4', [completed('build', { by: 'A' })], {
        expectedSeq: 2,
        fence: async () => leaseA.check(),
      })
      .then(
        () => 'stored',
        (e: unknown) => e,
      );
    const leaseB = await b.acquire('run-4');
    await storeB.append('run-4', [completed('build', { by: 'B' })], {
      expectedSeq: 2,
      fence: () => leaseB.fence(),
    });
    proxy.resume();
    const outcome = await late;
    // Delivered late, A's publish expects the subject's old last sequence: JetStream refuses it.
    expect(isRunStoreError(outcome, StoreErrorCode.CONFLICT) || isLeaseLostError(outcome)).toBe(true);
    const journal = await storeB.read('run-4');
    expect(journal.map((e) => (e.kind === 'stepCompleted' ? e.output : e.kind))).toEqual([
      'runStarted',
      'attemptDispatched',
      { by: 'B' },
    ]);
    await Promise.all([a.close(), b.close(), storeA.close(), storeB.close()]);
    await proxy.close();
  });

  it('validates its options and run ids, naming the field', async () => {
    const c = await conn();
    await expect(
      LeaseManager.open({ connection: c, owner: 'A', ttlMs: 100, renewEveryMs: 200 }),
    ).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'LeaseManager.options.renewEveryMs',
    );
    const m = await LeaseManager.open({ connection: c, owner: 'A', bucket: 'leases_v' });
    await expect(m.tryAcquire('../x')).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'LeaseManager.tryAcquire.runId',
    );
  });
});
