/**
 * The SIGKILL scenario of the worker tests: `workers` worker processes (concurrency 8, lease TTL
 * 2 s) share 200 runs of four command-agent steps that log "<worker> <idempotency key>"; W1 is
 * SIGKILLed once it has done a good part of its share. Asserts: every run succeeds with the
 * outputs of an uninterrupted run and finishes once; every step ran; the only keys executed
 * twice are steps in flight when a run changed hands (the kill: at most one per run W1 drove,
 * ≤ its concurrency; or a lease a live worker lost on this loaded machine, counted and
 * printed), at most one per handover; W1's runs are resumed by another worker within 2 × the
 * TTL. Prints the figures.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { ClusterClient } from '../../src/cluster/worker/ClusterClient.js';
import { startFixture, type TestProcess } from './processes.js';

const WORKFLOW = fileURLToPath(new URL('./fixtures/workers/workflow.yaml', import.meta.url));
const STEPS = ['s1', 's2', 's3', 's4'];
const TTL = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lines "<worker> <key>" the agents logged. */
export function effects(log: string): Array<{ worker: string; key: string }> {
  let text = '';
  try {
    text = readFileSync(log, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => ({ worker: l.split(' ')[0]!, key: l.split(' ')[1]! }));
}

/** Keys logged more than once. */
export const repeated = (log: Array<{ key: string }>): string[] => {
  const counts = new Map<string, number>();
  for (const x of log) counts.set(x.key, (counts.get(x.key) ?? 0) + 1);
  return [...counts].filter(([, c]) => c > 1).map(([k]) => k);
};

export async function sigkillScenario(o: {
  url: string;
  dir: string;
  workers: number;
  client: () => Promise<ClusterClient>;
  processes: TestProcess[];
}): Promise<void> {
  const log = path.join(o.dir, 'kill.log');
  const RUNS = 200;
  const spawnWorker = (id: string) => {
    const p = startFixture('workerProcess', {
      NATS_URL: o.url,
      WORKFLOW,
      WORKER_ID: id,
      KEY_LOG: log,
      CONCURRENCY: '8',
      LEASE_TTL_MS: String(TTL),
    });
    o.processes.push(p);
    return p;
  };
  const ws = Array.from({ length: o.workers }, (_, i) => spawnWorker(`W${i + 1}`));
  await Promise.all(ws.map((w) => w.waitFor(/^ready/, 20_000)));
  const w1 = ws[0]!;
  const c = await o.client();
  const ids = Array.from({ length: RUNS }, (_, i) => `kill-${i}`);
  for (const [i, runId] of ids.entries()) await c.submitRun({ runId, pattern: 'four', input: { i } });
  // kill W1 once it has done a good part of its share
  while (effects(log).filter((e) => e.worker === 'W1').length < (RUNS * STEPS.length) / (2.5 * o.workers))
    await sleep(20);
  await w1.kill();
  const killedAt = Date.now();
  const killedEffects = effects(log).filter((e) => e.worker === 'W1').length;
  const results = await Promise.all(ids.map((id) => c.waitForRun(id, { timeoutMs: 90_000, pollMs: 500 })));
  const finishedAt = Date.now();

  // A run changes hands at each runResumed in its journal: the kill, or (on a loaded machine) a
  // lease a live worker lost. In flight at a handover: a step dispatched and not completed in
  // the journal before it (dispatch is write-ahead: an agent is called once its dispatch and
  // every fact before it are in the stream). Re-executions must be of those, one per handover.
  const inFlight = new Set<string>();
  const resumedAt: number[] = [];
  let handovers = 0;
  let lostLeases = 0;
  let finishedTwice = 0;
  for (const runId of ids) {
    const journal = await c.store.read(runId);
    if (journal.filter((e) => e.kind === 'runFinished').length !== 1) finishedTwice += 1;
    let takenAfterKill = false;
    for (const [at, e] of journal.entries()) {
      if (e.kind !== 'runResumed') continue;
      handovers += 1;
      if (e.at < killedAt) lostLeases += 1;
      else if (!takenAfterKill) {
        takenAfterKill = true;
        resumedAt.push(e.at - killedAt);
      }
      const before = journal.slice(0, at);
      const done = new Set(before.flatMap((x) => (x.kind === 'stepCompleted' ? [x.step] : [])));
      for (const x of before)
        if (x.kind === 'attemptDispatched' && !done.has(x.step)) inFlight.add(`${runId}/${x.step}`);
    }
  }
  const all = effects(log);
  const again = repeated(all);
  console.log(
    `workers: ${RUNS} runs × ${STEPS.length} steps on ${o.workers} workers (concurrency 8, lease TTL ${TTL} ms); ` +
      `W1 SIGKILLed after ${killedEffects} of its steps; ${resumedAt.length} runs taken over, first ` +
      `${Math.min(...resumedAt)} ms, last ${Math.max(...resumedAt)} ms after the kill; ${handovers} handovers in all ` +
      `(${lostLeases} before the kill: leases lost under load); ${again.length} steps re-executed, all in flight at a ` +
      `handover; all done ${finishedAt - killedAt} ms after the kill`,
  );
  const stray = again.filter((k) => !inFlight.has(k));
  for (const key of stray) {
    const runId = key.split('/')[0]!;
    const journal = await c.store.read(runId);
    console.log(
      `re-executed without a handover: ${key}; its agents' log:`,
      all.filter((e) => e.key.startsWith(`${runId}/`)),
    );
    console.log(
      `the journal of ${runId}:`,
      journal.map((e) => JSON.stringify(e).slice(0, 300)),
    );
  }
  for (const [i, r] of results.entries()) {
    expect(r.status, ids[i]).toBe('succeeded');
    expect(r.steps.map((s) => s.output)).toEqual(STEPS.map((s) => ({ done: s })));
  }
  expect(new Set(all.map((e) => e.key)).size).toBe(RUNS * STEPS.length); // every step ran
  expect(stray).toEqual([]); // only steps in flight at a handover ran again
  expect(again.length).toBeLessThanOrEqual(handovers); // at most one per handover
  // the kill hands over at most the runs W1 drove (its concurrency), one step in flight each
  expect(resumedAt.length).toBeLessThanOrEqual(8);
  expect(finishedTwice).toBe(0);
  expect(resumedAt.length).toBeGreaterThan(0);
  expect(Math.min(...resumedAt)).toBeLessThanOrEqual(2 * TTL);
  expect(all.some((e) => e.worker !== 'W1')).toBe(true);
  await c.close();
}
