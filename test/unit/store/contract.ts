/**
 * The contract every RunStore passes (append/read/list/cleanup/expectedSeq conflicts); each
 * store's test file calls {@link runStoreContract} with a factory.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../../src/core/clock.js';
import { isPatternValidationError } from '../../../src/core/errors.js';
import { isRunStoreError, StoreErrorCode } from '../../../src/store/errors.js';
import type { RunStore } from '../../../src/store/RunStore.js';
import type { JournalFact } from '../../../src/store/journal.js';
import { completed, dispatched, finished, finishedResult, started } from './facts.js';

/** A clock the tests move by hand. */
export function manualClock(start = 10_000): Clock & { set(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    set: (ms) => void (now = ms),
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
  };
}

export type StoreFactory = (clock: Clock) => Promise<RunStore>;

const DAY = 86_400_000;

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`${name}: RunStore contract`, () => {
    let store: RunStore | undefined;
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });
    const make = async (clock: Clock = manualClock()) => (store = await factory(clock));

    it('assigns seq and runId, fills `at` from the clock, and reads the journal back in order', async () => {
      const s = await make(manualClock(42_000));
      const first = await s.append('r1', [started(), dispatched('build')], { expectedSeq: 0 });
      expect(first.map((e) => [e.runId, e.seq, e.kind, e.at])).toEqual([
        ['r1', 1, 'runStarted', 1_000],
        ['r1', 2, 'attemptDispatched', 42_000],
      ]);
      await s.append('r1', [completed('build', { artefact: 'a.tgz' })], { expectedSeq: 2 });
      const read = await s.read('r1');
      expect(read.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(read[2]).toEqual({
        kind: 'stepCompleted',
        runId: 'r1',
        seq: 3,
        at: 42_000,
        step: 'build',
        attempt: 1,
        output: { artefact: 'a.tgz' },
      });
      expect(await s.read('unknown')).toEqual([]);
    });

    it('rejects a stale expectedSeq with ND_STORE_CONFLICT and stores nothing', async () => {
      const s = await make();
      await s.append('r1', [started()], { expectedSeq: 0 });
      const stale = s.append('r1', [dispatched('a')], { expectedSeq: 0 });
      await expect(stale).rejects.toSatisfy(
        (e) =>
          isRunStoreError(e, StoreErrorCode.CONFLICT) &&
          e.details.actualSeq === 1 &&
          /another writer/.test(e.message),
      );
      await expect(s.append('r2', [started()], { expectedSeq: 3 })).rejects.toSatisfy((e) =>
        isRunStoreError(e, StoreErrorCode.CONFLICT),
      );
      expect((await s.read('r1')).length).toBe(1);
      expect(await s.read('r2')).toEqual([]);
    });

    it('lets two appends of the same tick chain on expectedSeq', async () => {
      const s = await make();
      const a = s.append('r1', [started()], { expectedSeq: 0 });
      const b = s.append('r1', [dispatched('x')], { expectedSeq: 1 });
      const c = s.append('r1', [dispatched('y')], { expectedSeq: 1 }).catch((e: unknown) => e);
      await expect(Promise.all([a, b])).resolves.toHaveLength(2);
      expect(isRunStoreError(await c, StoreErrorCode.CONFLICT)).toBe(true);
      expect((await s.read('r1')).map((e) => e.kind)).toEqual(['runStarted', 'attemptDispatched']);
    });

    it('rejects invalid journals whole: not started first, started twice, facts after the end', async () => {
      const s = await make();
      await expect(s.append('r1', [dispatched('a')], { expectedSeq: 0 })).rejects.toSatisfy(
        (e) => isRunStoreError(e, StoreErrorCode.INVALID) && /first fact must be runStarted/.test(e.message),
      );
      await expect(s.append('r1', [started(), started()], { expectedSeq: 0 })).rejects.toSatisfy((e) =>
        isRunStoreError(e, StoreErrorCode.INVALID),
      );
      expect(await s.read('r1')).toEqual([]);
      await s.append('r1', [started(), finished('r1')], { expectedSeq: 0 });
      await expect(s.append('r1', [dispatched('late')], { expectedSeq: 2 })).rejects.toSatisfy(
        (e) => isRunStoreError(e, StoreErrorCode.INVALID) && /has ended \(succeeded\)/.test(e.message),
      );
    });

    it('validates its inputs with errors that name the field', async () => {
      const s = await make();
      await expect(s.append('../etc', [started()], { expectedSeq: 0 })).rejects.toSatisfy(
        (e) => isPatternValidationError(e) && e.details.field === 'RunStore.append.runId',
      );
      const bad = { ...dispatched('a'), attempt: 0 } as never;
      await expect(s.append('r1', [started(), bad], { expectedSeq: 0 })).rejects.toSatisfy(
        (e) => isPatternValidationError(e) && e.details.field === 'RunStore.append.facts.1.attempt',
      );
      await expect(s.append('r1', [], { expectedSeq: 0 })).rejects.toSatisfy(isPatternValidationError);
      await expect(s.listRuns({ status: 'sleeping' as never })).rejects.toSatisfy(isPatternValidationError);
      await expect(s.cleanupRuns({ olderThanDays: -1 })).rejects.toSatisfy(isPatternValidationError);
    });

    it('derives status from the facts and filters listRuns by status, pattern and start time', async () => {
      const s = await make();
      await s.append('a', [started('deploy', 1_000), dispatched('build')], { expectedSeq: 0 });
      await s.append(
        'b',
        [
          started('deploy', 2_000),
          dispatched('build'),
          {
            kind: 'stepFailed',
            step: 'build',
            attempt: 1,
            error: { name: 'AgentError', code: 'ND_AGENT_ERROR', message: 'boom' },
          },
          { kind: 'retryDue', step: 'build', attempt: 2, dueAt: 9_000 },
        ],
        { expectedSeq: 0 },
      );
      await s.append('c', [started('backup', 3_000), finished('c', 'backup', 4_000)], { expectedSeq: 0 });
      await s.append(
        'd',
        [
          started('deploy', 4_000),
          { kind: 'cancelRequested', reason: 'user', at: 4_200 },
          { ...finished('d', 'deploy', 4_500), result: { ...finishedResult('d'), status: 'cancelled' } },
        ] as JournalFact[],
        { expectedSeq: 0 },
      );
      await s.append(
        'e',
        [started('deploy', 5_000), { ...dispatched('approve'), waitingFor: 'approval' }] as JournalFact[],
        { expectedSeq: 0 },
      );
      const all = await s.listRuns();
      expect(all.map((r) => [r.runId, r.status, r.lastSeq, r.finishedAt])).toEqual([
        ['a', 'running', 2, undefined],
        ['b', 'waiting', 4, undefined],
        ['c', 'succeeded', 2, 4_000],
        ['d', 'cancelled', 3, 4_500],
        ['e', 'waiting', 2, undefined],
      ]);
      expect(all[0]).toMatchObject({ pattern: 'deploy', startedAt: 1_000 });
      expect((await s.listRuns({ status: 'waiting' })).map((r) => r.runId)).toEqual(['b', 'e']);
      expect((await s.listRuns({ status: ['running', 'cancelled'] })).map((r) => r.runId)).toEqual([
        'a',
        'd',
      ]);
      expect((await s.listRuns({ pattern: 'backup' })).map((r) => r.runId)).toEqual(['c']);
      expect((await s.listRuns({ since: 2_500, pattern: 'deploy' })).map((r) => r.runId)).toEqual(['d', 'e']);
      await s.append('b', [dispatched('build', 2)], { expectedSeq: 4 });
      await s.append('e', [completed('approve')], { expectedSeq: 2 });
      expect((await s.listRuns({ status: 'waiting' })).map((r) => r.runId)).toEqual([]);
    });

    it('cleanupRuns removes only runs that ended before the retention period', async () => {
      const clock = manualClock(0);
      const s = await make(clock);
      await s.append('old', [started('p', 0), finished('old', 'p', 1 * DAY)], { expectedSeq: 0 });
      await s.append('recent', [started('p', 0), finished('recent', 'p', 9 * DAY)], { expectedSeq: 0 });
      await s.append('live', [started('p', 0)], { expectedSeq: 0 });
      clock.set(10 * DAY);
      expect(await s.cleanupRuns({ olderThanDays: 7 })).toEqual(['old']);
      expect(await s.read('old')).toEqual([]);
      expect((await s.listRuns()).map((r) => r.runId)).toEqual(['live', 'recent']);
      expect(await s.cleanupRuns({ olderThanDays: 0 })).toEqual(['recent']);
      expect((await s.listRuns()).map((r) => r.runId)).toEqual(['live']);
    });

    it('rejects every call after close', async () => {
      const s = await make();
      await s.close();
      await expect(s.read('r1')).rejects.toSatisfy((e) => isRunStoreError(e, StoreErrorCode.UNAVAILABLE));
      await expect(s.append('r1', [started()], { expectedSeq: 0 })).rejects.toSatisfy((e) =>
        isRunStoreError(e, StoreErrorCode.UNAVAILABLE),
      );
    });
  });
}
