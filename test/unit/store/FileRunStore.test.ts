import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isRunStoreError, StoreErrorCode } from '../../../src/store/errors.js';
import { FileRunStore } from '../../../src/store/FileRunStore.js';
import type { JournalFact } from '../../../src/store/journal.js';
import { MemoryRunStore } from '../../../src/store/MemoryRunStore.js';
import { manualClock, runStoreContract } from './contract.js';
import { completed, dispatched, finished, started } from './facts.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'nd-store-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

runStoreContract('FileRunStore', async (clock) => FileRunStore.open({ dir: tempDir(), clock }));
runStoreContract('FileRunStore (fsync)', async (clock) =>
  FileRunStore.open({ dir: tempDir(), clock, fsync: true }),
);

describe('FileRunStore on disk', () => {
  it('keeps journals and summaries across close and reopen', async () => {
    const dir = tempDir();
    const s1 = await FileRunStore.open({ dir });
    await s1.append('r1', [started(), dispatched('a')], { expectedSeq: 0 });
    await s1.append('r2', [started('backup'), finished('r2', 'backup')], { expectedSeq: 0 });
    const before = await s1.read('r1');
    await s1.close();
    const s2 = await FileRunStore.open({ dir });
    expect(await s2.read('r1')).toEqual(before);
    expect((await s2.listRuns()).map((r) => [r.runId, r.status, r.lastSeq])).toEqual([
      ['r1', 'running', 2],
      ['r2', 'succeeded', 2],
    ]);
    await expect(s2.append('r1', [completed('a')], { expectedSeq: 1 })).rejects.toSatisfy((e) =>
      isRunStoreError(e, StoreErrorCode.CONFLICT),
    );
    await s2.append('r1', [completed('a')], { expectedSeq: 2 });
    await s2.close();
  });

  it('writes the appends of one tick with one write, and they all resolve', async () => {
    const dir = tempDir();
    const s = await FileRunStore.open({ dir, fsync: true });
    await s.append('r1', [started()], { expectedSeq: 0 });
    const all = await Promise.all(
      Array.from({ length: 50 }, (_, i) => s.append('r1', [dispatched(`s${i}`)], { expectedSeq: i + 1 })),
    );
    expect(all.map((entries) => entries[0]!.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect((await s.read('r1')).length).toBe(51);
    await s.close();
  });

  it('lets timers and other I/O run between the commits of a writer looping on await append', async () => {
    const s = await FileRunStore.open({ dir: tempDir() });
    await s.append('r1', [started()], { expectedSeq: 0 });
    let timerFiredAtSeq = 0;
    let seq = 1;
    setTimeout(() => (timerFiredAtSeq = seq), 0);
    for (; seq < 300; seq += 1) await s.append('r1', [dispatched(`s${seq}`)], { expectedSeq: seq });
    expect(timerFiredAtSeq).toBeGreaterThan(0);
    expect(timerFiredAtSeq).toBeLessThan(300);
    await s.close();
  });

  it('lets two stores in one directory write different runs, and refuses a run the other one writes', async () => {
    const dir = tempDir();
    const s1 = await FileRunStore.open({ dir });
    const s2 = await FileRunStore.open({ dir });
    await s1.append('r1', [started()], { expectedSeq: 0 });
    await s2.append('r2', [started()], { expectedSeq: 0 });
    // s1 holds r1's lock in this process: a second writer is refused even in the same process
    writeFileSync(join(dir, 'runs', 'r1.lock'), String(process.ppid));
    await expect(s2.append('r1', [dispatched('a')], { expectedSeq: 1 })).rejects.toSatisfy(
      (e) =>
        isRunStoreError(e, StoreErrorCode.UNAVAILABLE) &&
        e.message.includes(`held by process ${process.ppid}`) &&
        e.message.includes('Run r1'),
    );
    // both see both runs
    expect((await s2.listRuns()).map((r) => r.runId)).toEqual(['r1', 'r2']);
    expect((await s2.read('r1')).map((e) => e.kind)).toEqual(['runStarted']);
    await s1.close();
    await s2.close();
  });

  it('releases a run when it ends, so another store can read and clean it up', async () => {
    const dir = tempDir();
    const s1 = await FileRunStore.open({ dir });
    await s1.append('r1', [started(), finished('r1')], { expectedSeq: 0 });
    expect(existsSync(join(dir, 'runs', 'r1.lock'))).toBe(false);
    const s2 = await FileRunStore.open({ dir });
    expect((await s2.listRuns())[0]?.status).toBe('succeeded');
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(await s2.cleanupRuns({ olderThanDays: 0 })).toEqual(['r1']);
    expect(await s1.listRuns()).toEqual([]);
    await s1.close();
    await s2.close();
  });

  it('takes over a run lock left by a process that no longer exists', async () => {
    const dir = tempDir();
    const s1 = await FileRunStore.open({ dir });
    await s1.append('r1', [started()], { expectedSeq: 0 });
    await s1.close();
    writeFileSync(join(dir, 'runs', 'r1.lock'), '2147483646'); // no such pid
    const s = await FileRunStore.open({ dir });
    await s.append('r1', [dispatched('a')], { expectedSeq: 1 });
    expect(readFileSync(join(dir, 'runs', 'r1.lock'), 'utf8')).toBe(String(process.pid));
    await s.close();
    expect(existsSync(join(dir, 'runs', 'r1.lock'))).toBe(false);
  });

  it('rejects unknown options', async () => {
    await expect(FileRunStore.open({ dir: tempDir(), fsynk: true } as never)).rejects.toThrow(
      /FileRunStore\.options/,
    );
  });

  it('property: random appends read back identical, in memory and on disk, before and after reopen', async () => {
    const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    const fact: fc.Arbitrary<JournalFact> = fc.oneof(
      fc
        .record({
          step: fc.string({ minLength: 1 }),
          attempt: fc.integer({ min: 1, max: 9 }),
          agent: fc.string({ minLength: 1 }),
          idempotencyKey: fc.uuid(),
        })
        .map((r) => ({ kind: 'attemptDispatched' as const, ...r })),
      fc
        .record({ step: fc.string({ minLength: 1 }), output: json })
        .map((r) => ({ kind: 'stepCompleted' as const, attempt: 1, ...r }) as JournalFact),
      fc
        .record({ signal: fc.string({ minLength: 1 }), payload: json })
        .map((r) => ({ kind: 'signalReceived' as const, ...r }) as JournalFact),
    );
    const batches = fc.array(fc.array(fact, { minLength: 1, maxLength: 4 }), { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(batches, fc.integer({ min: 0, max: 2 ** 40 }), async (batchList, at) => {
        const dir = tempDir();
        const clock = manualClock(at);
        const file = await FileRunStore.open({ dir, clock });
        const memory = new MemoryRunStore({ clock });
        const appended = [];
        for (const store of [file, memory])
          await store.append('run', [started('deploy', 1_000, null)], { expectedSeq: 0 });
        let seq = 1;
        for (const batch of batchList) {
          const stored = await file.append('run', batch, { expectedSeq: seq });
          expect(await memory.append('run', batch, { expectedSeq: seq })).toEqual(stored);
          appended.push(...stored);
          seq += batch.length;
        }
        const expected = (await memory.read('run')).slice(1);
        expect(expected).toEqual(appended);
        expect(expected.map((e) => e.kind)).toEqual(batchList.flat().map((f) => f.kind));
        expect(await file.read('run')).toEqual(await memory.read('run'));
        await file.close();
        const reopened = await FileRunStore.open({ dir });
        expect(await reopened.read('run')).toEqual(await memory.read('run'));
        await reopened.close();
      }),
      { numRuns: 40 },
    );
  });
});

describe('FileRunStore crash recovery', () => {
  const writeRun = async (dir: string) => {
    const s = await FileRunStore.open({ dir });
    await s.append(
      'r1',
      [started(), dispatched('a'), completed('a', { note: 'ünïcödé ✓' }), dispatched('b')],
      {
        expectedSeq: 0,
      },
    );
    await s.close();
    return join(dir, 'runs', 'r1.ndj');
  };

  it('recovers every whole record when the last one is cut at any byte offset, and truncates the file', async () => {
    const dir = tempDir();
    const file = await writeRun(dir);
    const full = readFileSync(file);
    const lastStart = full.lastIndexOf(0x0a, full.length - 2) + 1;
    const wholeRecords = full.subarray(0, lastStart);
    for (let cut = lastStart; cut < full.length; cut += 1) {
      writeFileSync(file, full.subarray(0, cut));
      const s = await FileRunStore.open({ dir });
      expect((await s.read('r1')).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect((await s.listRuns())[0]?.lastSeq).toBe(3);
      // the run continues after the last whole record: the cut record is gone first
      await s.append('r1', [dispatched('b')], { expectedSeq: 3 });
      expect(readFileSync(file).subarray(0, lastStart)).toEqual(wholeRecords);
      await s.close();
      expect(readFileSync(file).length).toBe(full.length);
    }
  });

  it('drops a journal whose only record is incomplete (the run was never acknowledged)', async () => {
    const dir = tempDir();
    const file = await writeRun(dir);
    writeFileSync(file, readFileSync(file).subarray(0, 20));
    const s = await FileRunStore.open({ dir });
    expect(await s.listRuns()).toEqual([]);
    expect(await s.read('r1')).toEqual([]);
    // the next writer of the run removes it and starts afresh
    await s.append('r1', [started()], { expectedSeq: 0 });
    expect((await s.read('r1')).length).toBe(1);
    await s.close();
  });

  it('names the file and byte offset of a record corrupted before the end', async () => {
    const dir = tempDir();
    const file = await writeRun(dir);
    const bytes = readFileSync(file);
    const secondStart = bytes.indexOf(0x0a) + 1;
    const thirdStart = bytes.indexOf(0x0a, secondStart) + 1;
    const flipped = Buffer.from(bytes);
    const at = secondStart + Math.floor((thirdStart - secondStart) / 2);
    flipped[at] = flipped[at]! ^ 0x04;
    writeFileSync(file, flipped);
    const s = await FileRunStore.open({ dir });
    const error = await s.read('r1').catch((e: unknown) => e);
    expect(isRunStoreError(error, StoreErrorCode.CORRUPT)).toBe(true);
    expect((error as Error).message).toBe(
      `Corrupt journal ${file} at byte offset ${secondStart}: checksum mismatch`,
    );
    expect(error).toMatchObject({ details: { file, offset: secondStart } });
    await expect(s.listRuns()).rejects.toThrow(/checksum mismatch/);
    // a writer is refused too, and leaves the run's lock free: once repaired, the run continues
    await expect(s.append('r1', [completed('b')], { expectedSeq: 4 })).rejects.toThrow(/checksum/);
    writeFileSync(file, bytes);
    await s.append('r1', [completed('b')], { expectedSeq: 4 });
    await s.close();
  });

  it('reports a whole record that breaks the seq order as corruption at its offset', async () => {
    const dir = tempDir();
    const file = await writeRun(dir);
    const bytes = readFileSync(file);
    const secondStart = bytes.indexOf(0x0a) + 1;
    const thirdStart = bytes.indexOf(0x0a, secondStart) + 1;
    // drop record 2: record 3 now has a gap before it
    writeFileSync(file, Buffer.concat([bytes.subarray(0, secondStart), bytes.subarray(thirdStart)]));
    const s = await FileRunStore.open({ dir });
    await expect(s.read('r1')).rejects.toThrow(
      new RegExp(`Corrupt journal .*r1\\.ndj at byte offset ${secondStart}: .*seq must be 2`),
    );
    await s.close();
  });
});
