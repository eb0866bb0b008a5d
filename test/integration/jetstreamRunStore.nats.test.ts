/**
 * The JetStream run store against a private nats-server: the same contract as the memory and
 * file stores, two writers on two connections, the summary index repaired from the journal, and
 * a server restart (same store directory) in the middle of an append loop.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPatternValidationError } from '../../src/core/errors.js';
import { isRunStoreError, StoreErrorCode } from '../../src/store/errors.js';
import { JetStreamRunStore } from '../../src/store/jetstream/JetStreamRunStore.js';
import { runStoreContract } from '../unit/store/contract.js';
import { completed, dispatched, started } from '../unit/store/facts.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

let server: NatsServer;
let nc: NatsConnection;
let other: NatsConnection;
let n = 0;
/** Names of a store of its own, so tests do not see each other's runs. */
const fresh = () => {
  n += 1;
  return { stream: `T${n}`, subjectPrefix: `t${n}.journal`, bucket: `t${n}_runs` };
};

beforeAll(async () => {
  server = await startNatsServer({ control: true });
  nc = await connect({ servers: server.url });
  other = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await other?.close();
  await server?.stop();
});

runStoreContract('JetStreamRunStore', async (clock) =>
  JetStreamRunStore.open({ connection: nc, clock, ...fresh() }),
);

describe('JetStreamRunStore across processes', () => {
  it('lets exactly one of two writers on two connections append after the same seq', async () => {
    const names = fresh();
    const a = await JetStreamRunStore.open({ connection: nc, ...names });
    const b = await JetStreamRunStore.open({ connection: other, ...names });
    await a.append('run.1', [started()], { expectedSeq: 0 });
    expect((await b.read('run.1')).length).toBe(1);
    for (let round = 1; round <= 10; round++) {
      const results = await Promise.allSettled([
        a.append('run.1', [dispatched(`a${round}`)], { expectedSeq: round }),
        b.append('run.1', [dispatched(`b${round}`)], { expectedSeq: round }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(isRunStoreError(lost[0]?.reason, StoreErrorCode.CONFLICT)).toBe(true);
      expect((lost[0]?.reason as { details: { actualSeq: number } }).details.actualSeq).toBe(round + 1);
    }
    const journal = await a.read('run.1');
    expect(journal.map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(await b.read('run.1')).toEqual(journal);
    expect((await b.listRuns()).map((r) => [r.runId, r.lastSeq])).toEqual([['run.1', 11]]);
    await Promise.all([a.close(), b.close()]);
  });

  it('lists a run whose index value is missing or stale (its writer died between the writes)', async () => {
    const names = fresh();
    const s = await JetStreamRunStore.open({ connection: nc, ...names });
    await s.append('r1', [started('deploy', 1_000)], { expectedSeq: 0 });
    await s.append('r2', [started('deploy', 2_000), dispatched('a')], { expectedSeq: 0 });
    await s.listRuns(); // the index is written in the background; this waits for it
    const kv = await new Kvm(nc).open(names.bucket);
    const stale = await kv.get('r2');
    expect(JSON.parse(new TextDecoder().decode(stale!.value))).toMatchObject({ messages: 1 });
    await s.append('r2', [completed('a')], { expectedSeq: 2 });
    await s.close(); // waits for its index writes too
    await kv.purge('r1');
    await kv.put('r2', stale!.value); // the index as it was before the last append
    await kv.put('ghost', new TextEncoder().encode('{}')); // no journal: removed, never listed
    const fresh2 = await JetStreamRunStore.open({ connection: other, ...names });
    expect((await fresh2.listRuns()).map((r) => [r.runId, r.lastSeq])).toEqual([
      ['r1', 1],
      ['r2', 3],
    ]);
    expect(JSON.parse(new TextDecoder().decode((await kv.get('r1'))!.value))).toMatchObject({
      messages: 1,
      summary: { runId: 'r1', lastSeq: 1 },
    });
    expect((await kv.get('ghost'))?.operation).not.toBe('PUT');
    await fresh2.close();
  });

  it('reports a journal message that is not one as ND_STORE_CORRUPT, naming stream and sequence', async () => {
    const names = fresh();
    const s = await JetStreamRunStore.open({ connection: nc, ...names });
    await s.append('r1', [started()], { expectedSeq: 0 });
    const ack = await jetstream(nc).publish(`${names.subjectPrefix}.r1`, '{"entries":[]}');
    await expect(s.read('r1')).rejects.toSatisfy(
      (e) =>
        isRunStoreError(e, StoreErrorCode.CORRUPT) &&
        e.details.file === names.stream &&
        e.details.offset === ack.seq &&
        e.message.includes(`stream ${names.stream}, sequence ${ack.seq}`),
    );
    await expect(s.append('r1', [dispatched('a')], { expectedSeq: 1 })).rejects.toSatisfy((e) =>
      isRunStoreError(e, StoreErrorCode.CORRUPT),
    );
    await s.close();
  });

  it('validates its options, naming the field', async () => {
    await expect(JetStreamRunStore.open({ connection: nc, subjectPrefix: 'a..b' })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'JetStreamRunStore.options.subjectPrefix',
    );
    await expect(JetStreamRunStore.open({ connection: {} as NatsConnection })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'JetStreamRunStore.options.connection',
    );
    await expect(JetStreamRunStore.open({ connection: nc, attempts: 0, ...fresh() })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'JetStreamRunStore.options.attempts',
    );
  });

  it('refuses options an existing stream does not have, instead of ignoring them', async () => {
    const names = fresh();
    await (await JetStreamRunStore.open({ connection: nc, ...names })).close();
    await expect(JetStreamRunStore.open({ connection: nc, ...names, storage: 'memory' })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'JetStreamRunStore.options.storage',
    );
    const again = await JetStreamRunStore.open({ connection: nc, ...names, storage: 'file' });
    await again.close();
  });

  it('loses no acknowledged append when nats-server is killed and restarted mid-loop', async () => {
    const names = fresh();
    const conn = await connect({ servers: server.url, reconnectTimeWait: 50, maxReconnectAttempts: -1 });
    const s = await JetStreamRunStore.open({ connection: conn, ...names });
    await s.append('loop', [started()], { expectedSeq: 0 });
    const acknowledged: string[] = [];
    // Each append awaited before the next, 10 ms apart; any rejection fails the test: the
    // store's own retries (same message id, deduplicated by the server) ride out the outage.
    const writer = (async () => {
      for (let i = 0; i < 60; i++) {
        await s.append('loop', [dispatched(`s${i}`)], { expectedSeq: i + 1 });
        acknowledged.push(`s${i}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const beforeKill = acknowledged.length;
    await server.kill();
    await new Promise((r) => setTimeout(r, 300));
    await server.restart();
    await writer;
    const journal = await s.read('loop');
    const steps = journal.flatMap((e) => (e.kind === 'attemptDispatched' ? [e.step] : []));
    expect(steps).toEqual(acknowledged);
    expect(acknowledged).toHaveLength(60);
    expect(journal.map((e) => e.seq)).toEqual(Array.from({ length: 61 }, (_, i) => i + 1));
    expect(beforeKill).toBeGreaterThan(0); // the kill fell mid-loop
    expect(beforeKill).toBeLessThan(60);
    await s.close();
    await conn.close();
  }, 20_000);
});
