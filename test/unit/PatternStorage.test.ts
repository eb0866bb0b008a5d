import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfidenceLevel } from '../../src/learning/ConfidenceLevel.js';
import { PatternNotFoundError, PatternValidationError, type PatternError } from '../../src/core/errors.js';
import { PatternStorage, type PatternStorageOptions } from '../../src/runtime/PatternStorage.js';
import { patternSnapshotSchema, type PatternSnapshot } from '../../src/runtime/patterns/snapshot.js';
import { DAY, manualClock, patternOf, snapshot, T0 } from './storageFixtures.js';

// revive.ts is written separately; its wiring is checked against this stand-in.
vi.mock('../../src/runtime/patterns/revive.js', () => ({
  revivePattern: (s: PatternSnapshot) => ({ revivedBy: 'revivePattern', name: s.name }),
}));

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'nd-storage-'));
  dir = join(root, 'store');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const storage = (options: PatternStorageOptions = {}) =>
  new PatternStorage({ storagePath: dir, clock: manualClock(), ...options });

async function rejection(promise: Promise<unknown>): Promise<PatternError> {
  try {
    await promise;
  } catch (error) {
    return error as PatternError;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): PatternError {
  try {
    fn();
  } catch (error) {
    return error as PatternError;
  }
  throw new Error('expected a throw');
}

describe('PatternStorage round trip', () => {
  it('stores gzip when compression is on and loads the same snapshot', async () => {
    const s = snapshot();
    await storage().savePattern(patternOf(s));
    const bytes = await readFile(join(dir, 'patterns', 'flow.json.gz'));
    expect([bytes[0], bytes[1]]).toEqual([0x1f, 0x8b]);
    expect(JSON.parse(gunzipSync(bytes).toString('utf8'))).toEqual(s);
    expect(await storage().loadSnapshot('flow')).toEqual(s);
  });

  it('stores plain JSON when compression is off (positional form)', async () => {
    const s = snapshot();
    const plain = new PatternStorage(dir, true, false);
    await plain.storePattern(patternOf(s));
    expect(JSON.parse(await readFile(join(dir, 'patterns', 'flow.json'), 'utf8'))).toEqual(s);
    expect(await plain.loadSnapshot('flow')).toEqual(s);
    expect(plain.storagePath).toBe(dir);
  });

  it('reads either format and replaces the other on save', async () => {
    await storage({ compressionEnabled: false }).savePattern(patternOf(snapshot()));
    const gz = storage({ compressionEnabled: true });
    expect((await gz.loadSnapshot('flow')).description).toBe('validate, process, store');
    await gz.savePattern(patternOf(snapshot({ description: 'v2' })));
    expect(await readdir(join(dir, 'patterns'))).toEqual(['flow.json.gz']);
    expect((await storage({ compressionEnabled: false }).loadSnapshot('flow')).description).toBe('v2');
  });

  it('loadPattern and getPattern revive through the override, or revivePattern by default', async () => {
    const revive = vi.fn((s: PatternSnapshot) => ({ custom: s.type }));
    const st = storage({ revive });
    await st.savePattern(patternOf(snapshot()));
    expect(await st.loadPattern('flow')).toEqual({ custom: 'SequentialDelegationPattern' });
    expect(await st.getPattern('flow')).toEqual({ custom: 'SequentialDelegationPattern' });
    expect(revive).toHaveBeenCalledTimes(2);
    expect(await storage().getPattern('flow')).toEqual({ revivedBy: 'revivePattern', name: 'flow' });
  });

  it('property: any snapshot passing the schema round-trips unchanged', async () => {
    // JSON writes -0 as 0, so the generators leave -0 out (x + 0 turns -0 into 0).
    const num = fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0);
    const json = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
    const nonNeg = fc.double({ min: 0, noNaN: true, noDefaultInfinity: true });
    const outcome = fc.record(
      { at: num, success: fc.boolean(), durationMs: nonNeg, domain: fc.string({ unit: 'binary' }) },
      { requiredKeys: ['at', 'success', 'durationMs'] },
    );
    const count = fc.nat();
    const arb = fc.record({
      version: fc.constant(1 as const),
      name: fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
      type: fc.string({ minLength: 1 }),
      description: fc.string({ unit: 'binary' }),
      config: json,
      stats: fc.record({
        executions: count,
        successes: count,
        failures: count,
        totalDurationMs: nonNeg,
        byDomain: fc.dictionary(fc.string(), fc.record({ successes: fc.integer(), failures: fc.integer() })),
        history: fc.array(outcome, { maxLength: 5 }),
      }),
      confidenceThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
      learningEnabled: fc.boolean(),
      createdAt: num,
      lastUsedAt: num,
    });
    const gz = storage({ compressionEnabled: true });
    const plain = storage({ compressionEnabled: false, backupEnabled: false });
    await fc.assert(
      fc.asyncProperty(arb, fc.boolean(), async (s, compress) => {
        fc.pre(patternSnapshotSchema.safeParse(s).success);
        const st = compress ? gz : plain;
        await st.savePattern(patternOf(s));
        expect(await st.loadSnapshot(s.name)).toEqual(s);
      }),
      { numRuns: 150 },
    );
  });
});

describe('PatternStorage backups', () => {
  it('backs up the previous version at clock time and keeps the newest maxBackups', async () => {
    const clock = manualClock();
    const st = storage({ clock, maxBackups: 2 });
    for (let v = 1; v <= 4; v += 1) {
      clock.t = T0 + v;
      await st.savePattern(patternOf(snapshot({ description: `v${v}` })));
    }
    const files = await readdir(join(dir, 'backups'));
    expect(files.sort()).toEqual([`flow.${T0 + 3}.json.gz`, `flow.${T0 + 4}.json.gz`]);
    const kept = files
      .sort()
      .map((f) => readFile(join(dir, 'backups', f)).then((b) => gunzipSync(b).toString()));
    expect((await Promise.all(kept)).map((t) => (JSON.parse(t) as PatternSnapshot).description)).toEqual([
      'v2',
      'v3',
    ]);
  });

  it('gives saves within one millisecond distinct backups and backs up on delete', async () => {
    const st = storage({ compressionEnabled: false });
    for (let v = 1; v <= 3; v += 1) await st.savePattern(patternOf(snapshot({ description: `v${v}` })));
    expect(await st.deletePattern('flow')).toBe(true);
    expect(await st.deletePattern('flow')).toBe(false);
    expect((await readdir(join(dir, 'backups'))).sort()).toEqual([
      `flow.${T0}.json`,
      `flow.${T0 + 1}.json`,
      `flow.${T0 + 2}.json`,
    ]);
    expect(await readdir(join(dir, 'patterns'))).toEqual([]);
  });

  it('writes no backups when disabled, and keeps backups per pattern', async () => {
    const off = storage({ backupEnabled: false });
    await off.savePattern(patternOf(snapshot()));
    await off.savePattern(patternOf(snapshot()));
    await expect(readdir(join(dir, 'backups'))).rejects.toMatchObject({ code: 'ENOENT' });
    const on = storage({ maxBackups: 1 });
    for (const name of ['flow', 'flowX', 'flow', 'flowX'])
      await on.savePattern(patternOf(snapshot({ name })));
    // flow: backed up at T0 (the version `off` wrote), then at T0 + 1 (the same ms is taken); one kept.
    expect((await readdir(join(dir, 'backups'))).sort()).toEqual([
      `flow.${T0 + 1}.json.gz`,
      `flow^x.${T0}.json.gz`,
    ]);
  });

  it('serialises concurrent saves of one pattern', async () => {
    const st = storage({ maxBackups: 3 });
    const versions = Array.from({ length: 20 }, (_, i) => snapshot({ description: `v${i}` }));
    await Promise.all(versions.map((s) => st.savePattern(patternOf(s))));
    expect((await st.loadSnapshot('flow')).description).toBe('v19');
    expect(await readdir(join(dir, 'backups'))).toHaveLength(3);
  });
});

describe('PatternStorage file names', () => {
  it('keeps traversal names inside the store', async () => {
    const st = storage();
    const names = [
      '../evil',
      '..',
      '.',
      '/etc/passwd',
      'a/../../b',
      '..\\win',
      'nul\0byte',
      'Flow',
      'flow',
      'x'.repeat(1000),
    ];
    for (const name of names) await st.savePattern(patternOf(snapshot({ name })));
    expect(await readdir(root)).toEqual(['store']);
    expect((await readdir(dir)).sort()).toEqual(['patterns']);
    const files = await readdir(join(dir, 'patterns'));
    expect(files).toHaveLength(names.length);
    expect(files).toContain('%2E%2E%2Fevil.json.gz');
    expect(files.every((f) => f.length < 200 && !f.includes('/') && /^[^.]+\.json\.gz$/.test(f))).toBe(true);
    for (const name of names) expect((await st.loadSnapshot(name)).name).toBe(name);
    expect((await st.listSnapshots()).map((s) => s.name)).toEqual([...names].sort());
  });
});

describe('PatternStorage errors', () => {
  it('names the pattern and the directory when not found', async () => {
    const error = await rejection(storage().loadSnapshot('missing'));
    expect(error).toBeInstanceOf(PatternNotFoundError);
    expect(error.message).toContain("'missing'");
    expect(error.message).toContain(dir);
    expect(error.details.patternName).toBe('missing');
    await expect(storage().loadPattern('missing')).rejects.toBeInstanceOf(PatternNotFoundError);
  });

  it('names the file when it is not JSON, not gzip, or fails the schema', async () => {
    await mkdir(join(dir, 'patterns'), { recursive: true });
    const file = join(dir, 'patterns', 'flow.json.gz');
    for (const bytes of [Buffer.from('{ not json'), Buffer.from([0x1f, 0x8b, 0, 1])]) {
      await writeFile(file, bytes);
      const error = await rejection(storage().loadSnapshot('flow'));
      expect(error).toBeInstanceOf(PatternValidationError);
      expect(error.message).toContain(file);
    }
    const bad = { ...snapshot(), stats: { ...snapshot().stats, executions: -1 } };
    await writeFile(file, gzipSync(JSON.stringify(bad)));
    const error = await rejection(storage().loadSnapshot('flow'));
    expect(error.message).toContain(file);
    expect(error.details.field).toBe('stats.executions');
    await writeFile(file, gzipSync(JSON.stringify(snapshot({ name: 'other' }))));
    expect((await rejection(storage().loadSnapshot('flow'))).message).toContain(
      `${file}: holds pattern 'other'`,
    );
  });

  it('rejects bad options, naming the field', () => {
    const cases: [unknown[], string][] = [
      [[{ maxBackups: 0 }], 'PatternStorage.maxBackups'],
      [[{ storagePath: '' }], 'PatternStorage.storagePath'],
      [[{ clock: { now: 1 } }], 'PatternStorage.clock'],
      [[dir, 'yes'], 'PatternStorage.backupEnabled'],
      [[dir, true, 1], 'PatternStorage.compressionEnabled'],
      [[42], 'PatternStorage.storagePath'],
    ];
    for (const [args, field] of cases) {
      const ctor = PatternStorage as unknown as new (...a: unknown[]) => PatternStorage;
      const error = thrown(() => new ctor(...args));
      expect(error).toBeInstanceOf(PatternValidationError);
      expect(error.details.field).toBe(field);
      expect(error.message).toContain(field);
    }
    expect(thrown(() => new PatternStorage({ storagPath: dir } as PatternStorageOptions)).message).toContain(
      'storagPath',
    );
  });

  it('rejects an invalid snapshot or a non-pattern on save, naming the field', async () => {
    const error = await rejection(storage().savePattern(patternOf(snapshot({ confidenceThreshold: 2 }))));
    expect(error.details.field).toBe('snapshot.confidenceThreshold');
    const config = { big: 1n };
    expect((await rejection(storage().savePattern(patternOf(snapshot({ config }))))).details.field).toBe(
      'config',
    );
    expect((await rejection(storage().savePattern({} as never))).details.field).toBe('pattern');
    expect((await rejection(storage().loadSnapshot(''))).details.field).toBe('name');
  });
});

describe('PatternStorage queries', () => {
  const stats = (executions: number, successes: number) => ({
    ...snapshot().stats,
    executions,
    successes,
    failures: executions - successes,
  });

  it('filters by confidence level and by type', async () => {
    const st = storage();
    await st.savePattern(patternOf(snapshot({ name: 'high', stats: stats(10, 9) })));
    await st.savePattern(
      patternOf(snapshot({ name: 'medium', stats: stats(10, 6), type: 'ParallelCoordinationPattern' })),
    );
    await st.savePattern(patternOf(snapshot({ name: 'few', stats: stats(3, 3) })));
    const names = (list: PatternSnapshot[]) => list.map((s) => s.name);
    expect(names(await st.getPatternsByConfidence(ConfidenceLevel.HIGH))).toEqual(['high']);
    expect(names(await st.getPatternsByConfidence(ConfidenceLevel.MEDIUM))).toEqual(['medium']);
    expect(names(await st.getPatternsByConfidence(ConfidenceLevel.LOW))).toEqual(['few']);
    const always = { score: () => 1, level: () => ConfidenceLevel.HIGH };
    expect(names(await st.getPatternsByConfidence(ConfidenceLevel.HIGH, always))).toEqual([
      'few',
      'high',
      'medium',
    ]);
    expect(names(await st.getPatternsByType('ParallelCoordinationPattern'))).toEqual(['medium']);
    expect(names(await st.getPatternsByType('SequentialDelegationPattern'))).toEqual(['few', 'high']);
    expect((await rejection(st.getPatternsByConfidence(3 as ConfidenceLevel))).details.field).toBe('level');
  });

  it('exports a stored pattern, checking the format first', async () => {
    const st = storage();
    await st.savePattern(patternOf(snapshot()));
    expect((await st.exportLearningData('flow', 'csv')).split('\r\n')[1]).toBe(
      '2026-01-01T00:00:00.000Z,true,100,web',
    );
    expect((JSON.parse(await st.exportLearningData('flow')) as { executions: number }).executions).toBe(3);
    const error = await rejection(st.exportLearningData('missing', 'xml' as 'json'));
    expect(error.details.field).toBe('format');
  });
});

describe('PatternStorage.cleanupOldData', () => {
  it('drops old outcomes and stale patterns, counting both', async () => {
    const clock = manualClock(T0 + 40 * DAY);
    const st = storage({ clock });
    const cutoff = T0 + 10 * DAY;
    const history = [
      { at: T0, success: true, durationMs: 1 },
      { at: cutoff - 1, success: false, durationMs: 2 },
      { at: cutoff, success: true, durationMs: 3 },
      { at: T0 + 39 * DAY, success: true, durationMs: 4 },
    ];
    const live = snapshot({
      name: 'live',
      lastUsedAt: T0 + 39 * DAY,
      stats: { ...snapshot().stats, history },
    });
    const stale = snapshot({ name: 'stale', lastUsedAt: cutoff - 1 });
    for (const s of [live, stale]) await st.savePattern(patternOf(s));
    expect(await st.cleanupOldData()).toEqual({ outcomesRemoved: 5, patternsRemoved: 1 });
    const kept = await st.loadSnapshot('live');
    expect(kept.stats.history.map((o) => o.durationMs)).toEqual([3, 4]);
    expect({ ...kept.stats, history: [] }).toEqual({ ...live.stats, history: [] });
    await expect(st.loadSnapshot('stale')).rejects.toBeInstanceOf(PatternNotFoundError);
    expect(await st.cleanupOldData()).toEqual({ outcomesRemoved: 0, patternsRemoved: 0 });
    expect(await st.cleanupOldData(0.5)).toEqual({ outcomesRemoved: 2, patternsRemoved: 1 });
    expect(await st.listSnapshots()).toEqual([]);
    expect((await rejection(st.cleanupOldData(-1))).details.field).toBe('days');
  });
});
