/**
 * The cluster pieces together, without the executor: two consumers of the work queue drive runs
 * of ten steps through the JetStream store, each holding the run's lease and fencing its
 * appends. Worker 1's connection is closed mid-way (to the cluster, a dead process): its jobs are
 * redelivered, worker 2 takes the leases after they expire, resumes every run from its journal,
 * and re-executes only the steps that were in flight, with the same idempotency keys.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseManager } from '../../src/cluster/leases/LeaseManager.js';
import type { RunJob } from '../../src/cluster/workQueue/job.js';
import { WorkQueue } from '../../src/cluster/workQueue/WorkQueue.js';
import { JetStreamRunStore } from '../../src/store/jetstream/JetStreamRunStore.js';
import type { JournalEntry } from '../../src/store/journal.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

const TTL = 600;
const STEPS = Array.from({ length: 10 }, (_, i) => `step-${i}`);
let server: NatsServer;
const connections: NatsConnection[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await Promise.all(connections.filter((c) => !c.isClosed()).map((c) => c.close()));
  await server?.stop();
});

/** Side effects as the "agents" see them: one line per execution, with its idempotency key. */
const executions: Array<{ worker: string; key: string }> = [];

async function worker(name: string) {
  const connection = await connect({ servers: server.url });
  connections.push(connection);
  const queue = await WorkQueue.open({ connection, stream: 'FO_WORK', subject: 'fo.runs', ackWaitMs: 500 });
  const store = await JetStreamRunStore.open({
    connection,
    stream: 'FO_JOURNAL',
    subjectPrefix: 'fo.journal',
  });
  const leases = await LeaseManager.open({ connection, owner: name, ttlMs: TTL, bucket: 'fo_leases' });
  const handler = async (job: RunJob) => {
    const lease = await leases.acquire(job.runId);
    const fence = () => lease.fence();
    try {
      let journal = await store.read(job.runId);
      const append = async (facts: Parameters<typeof store.append>[1]) => {
        journal = [
          ...journal,
          ...(await store.append(job.runId, facts, { expectedSeq: journal.length, fence })),
        ];
      };
      if (journal.length === 0) {
        await append([
          { kind: 'runStarted', pattern: job.pattern, specHash: 'sha256:t', input: job.input ?? null },
        ]);
      }
      for (const step of STEPS) {
        if (journal.some((e) => e.kind === 'stepCompleted' && e.step === step)) continue; // never again
        const dispatched = journal.find(
          (e): e is Extract<JournalEntry, { kind: 'attemptDispatched' }> =>
            e.kind === 'attemptDispatched' && e.step === step,
        );
        const key = dispatched?.idempotencyKey ?? `${job.runId}/${step}/1`;
        if (!dispatched) {
          await append([{ kind: 'attemptDispatched', step, attempt: 1, agent: 'a', idempotencyKey: key }]);
        }
        lease.signal.throwIfAborted();
        executions.push({ worker: name, key });
        await sleep(25);
        await append([{ kind: 'stepCompleted', step, attempt: 1, output: { step } }]);
      }
      await append([
        {
          kind: 'runFinished',
          result: {
            runId: job.runId,
            pattern: job.pattern,
            status: 'succeeded',
            success: true,
            startedAt: journal[0]!.at,
            durationMs: 0,
            steps: [],
          },
        },
      ]);
    } finally {
      await lease.release();
    }
  };
  const consumer = await queue.consume({ concurrency: 3, handler, retryDelayMs: 50 });
  return { connection, queue, store, consumer };
}

/** Idempotency keys executed more than once. */
function repeated(log: Array<{ key: string }>): string[] {
  const counts = new Map<string, number>();
  for (const x of log) counts.set(x.key, (counts.get(x.key) ?? 0) + 1);
  return [...counts].filter(([, c]) => c > 1).map(([k]) => k);
}

describe('failover of runs between workers', () => {
  it('resumes every run of a dead worker from its journal, re-executing only steps in flight', async () => {
    const w1 = await worker('W1');
    const runs = ['r-a', 'r-b', 'r-c'];
    for (const runId of runs) await w1.queue.submitRun({ runId, pattern: 'ten-steps' });
    while (executions.length < 8) await sleep(5);
    await w1.connection.close(); // W1 is gone: no acks, no renewals, no appends
    const killedAt = Date.now();
    const w2 = await worker('W2');
    // In flight at the kill: dispatched and not completed in the journal.
    const inFlight = new Set<string>();
    for (const runId of runs) {
      const journal = await w2.store.read(runId);
      for (const e of journal) if (e.kind === 'attemptDispatched') inFlight.add(e.idempotencyKey);
      for (const e of journal) if (e.kind === 'stepCompleted') inFlight.delete(`${runId}/${e.step}/1`);
    }
    let firstByW2 = 0;
    for (;;) {
      const summaries = await w2.store.listRuns();
      if (!firstByW2 && executions.some((x) => x.worker === 'W2')) firstByW2 = Date.now();
      if (summaries.length === runs.length && summaries.every((s) => s.status === 'succeeded')) break;
      await sleep(50);
    }
    await w2.consumer.stop();
    await w1.consumer.stop(); // its loop ended with its connection
    console.log(
      `failover: ${inFlight.size} steps in flight at the kill, ${repeated(executions).length} re-executed, ` +
        `first step by W2 ${firstByW2 - killedAt} ms after the kill (lease TTL ${TTL} ms, ack wait 500 ms)`,
    );

    for (const runId of runs) {
      const journal = await w2.store.read(runId);
      const completed = journal.flatMap((e) => (e.kind === 'stepCompleted' ? [e.step] : []));
      expect(completed).toEqual(STEPS); // each step completed once, in order
    }
    expect(new Set(executions.map((x) => x.key)).size).toBe(runs.length * STEPS.length);
    expect(repeated(executions).every((k) => inFlight.has(k))).toBe(true); // only steps in flight ran again
    expect(inFlight.size).toBeGreaterThan(0);
    expect(executions.some((x) => x.worker === 'W1')).toBe(true);
    // Takeover: the job is redelivered after ackWait (500 ms), the lease taken after W1's TTL.
    expect(firstByW2 - killedAt).toBeLessThanOrEqual(500 + 2 * TTL + 500);
    expect(await w2.queue.pending()).toBe(0);
  }, 20_000);
});
