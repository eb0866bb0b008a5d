/**
 * The work queue of runs against a private nats-server: dedupe by run id, back-pressure (no
 * worker holds more than its concurrency), every job handled once and acknowledged, failed jobs
 * redelivered, long jobs kept by progress reports.
 */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunJob } from '../../src/cluster/workQueue/job.js';
import { WorkQueue } from '../../src/cluster/workQueue/WorkQueue.js';
import { isPatternValidationError } from '../../src/core/errors.js';
import { startNatsServer, type NatsServer } from './natsServer.js';

let server: NatsServer;
let nc: NatsConnection;
let other: NatsConnection;
let n = 0;
const names = () => {
  n += 1;
  return { stream: `W${n}`, subject: `w${n}.runs` };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const until = async (check: () => boolean | Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
};

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
  other = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await other?.close();
  await server?.stop();
});

describe('work queue of runs', () => {
  it('enqueues a run id once however often it is submitted', async () => {
    const q = await WorkQueue.open({ connection: nc, ...names() });
    const first = await q.submitRun({ runId: 'order-42', pattern: 'deploy', input: { v: 1 } });
    const again = await q.submitRun({ runId: 'order-42', pattern: 'deploy', input: { v: 1 } });
    const generated = await q.submitRun({ pattern: 'deploy' });
    expect(first).toEqual({ runId: 'order-42', duplicate: false });
    expect(again).toEqual({ runId: 'order-42', duplicate: true });
    expect(generated.runId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await q.pending()).toBe(2);
  });

  it('spreads jobs over two workers, never more in flight than each one`s concurrency, each once', async () => {
    const opts = { ...names(), ackWaitMs: 2000 };
    const q1 = await WorkQueue.open({ connection: nc, ...opts });
    const q2 = await WorkQueue.open({ connection: other, ...opts });
    const handled = new Map<string, string[]>();
    const inFlight = { w1: 0, w2: 0 };
    const peak = { w1: 0, w2: 0 };
    const handler = (worker: 'w1' | 'w2') => async (job: RunJob) => {
      inFlight[worker] += 1;
      peak[worker] = Math.max(peak[worker], inFlight[worker]);
      await sleep(30);
      handled.set(job.runId, [...(handled.get(job.runId) ?? []), worker]);
      inFlight[worker] -= 1;
    };
    const ids = Array.from({ length: 30 }, (_, i) => `run-${i}`);
    await Promise.all(ids.map((runId) => q1.submitRun({ runId, pattern: 'p', context: { i: runId } })));
    const c1 = await q1.consume({ concurrency: 2, handler: handler('w1') });
    const c2 = await q2.consume({ concurrency: 3, handler: handler('w2') });
    await until(() => handled.size === ids.length);
    await Promise.all([c1.stop(), c2.stop()]);
    expect([...handled.keys()].sort()).toEqual([...ids].sort());
    expect([...handled.values()].every((w) => w.length === 1)).toBe(true);
    expect(peak.w1).toBeLessThanOrEqual(2);
    expect(peak.w2).toBeLessThanOrEqual(3);
    expect(c1.peakInFlight).toBeLessThanOrEqual(2);
    expect(c2.peakInFlight).toBe(peak.w2);
    const byWorker = [...handled.values()].flat();
    expect(byWorker.filter((w) => w === 'w1').length).toBeGreaterThan(0);
    expect(byWorker.filter((w) => w === 'w2').length).toBeGreaterThan(0);
    await until(async () => (await q1.pending()) === 0); // acknowledged jobs leave the queue
  });

  it('redelivers a job whose handler failed, and keeps a long job by reporting progress', async () => {
    const q = await WorkQueue.open({ connection: nc, ...names(), ackWaitMs: 300 });
    const deliveries: Array<[string, number]> = [];
    const errors: unknown[] = [];
    await q.submitRun({ runId: 'flaky', pattern: 'p' });
    await q.submitRun({ runId: 'long', pattern: 'p' });
    const c = await q.consume({
      concurrency: 2,
      retryDelayMs: 50,
      onError: (e) => errors.push(e),
      handler: async (job, info) => {
        deliveries.push([job.runId, info.deliveryCount]);
        if (job.runId === 'flaky' && info.deliveryCount === 1) throw new Error('first try fails');
        if (job.runId === 'long') await sleep(1000); // > 3 × ackWait
      },
    });
    await until(() => deliveries.some(([id, count]) => id === 'flaky' && count === 2));
    await until(async () => (await q.pending()) === 0);
    await c.stop();
    expect(deliveries.filter(([id]) => id === 'flaky')).toEqual([
      ['flaky', 1],
      ['flaky', 2],
    ]);
    expect(deliveries.filter(([id]) => id === 'long')).toEqual([['long', 1]]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['first try fails']);
  });

  it('validates options and jobs, naming the field', async () => {
    await expect(WorkQueue.open({ connection: nc, stream: 'bad.name' })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'WorkQueue.options.stream',
    );
    const q = await WorkQueue.open({ connection: nc, ...names() });
    await expect(q.submitRun({ pattern: '' })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'submitRun.pattern',
    );
    await expect(q.submitRun({ pattern: 'p', runId: '../x' })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'submitRun.runId',
    );
    await expect(
      WorkQueue.open({ connection: nc, stream: q.stream, subject: q.subject, duplicateWindowMs: 5000 }),
    ).rejects.toSatisfy(
      (e) =>
        isPatternValidationError(e) &&
        e.details.field === 'WorkQueue.options.duplicateWindowMs' &&
        /exists with duplicate_window/.test(e.message),
    );
    await expect(q.consume({ concurrency: 0, handler: async () => undefined })).rejects.toSatisfy(
      (e) => isPatternValidationError(e) && e.details.field === 'WorkQueue.consume.options.concurrency',
    );
  });
});
