/**
 * `tsx bench/journal.bench.ts`: the embedded journal engines side by side, in one run.
 *
 * - FileRunStore (this project's append-only journal: one checksummed JSON-lines file per run,
 *   group commit), without and with `fsync` per commit;
 * - SQLite through better-sqlite3 (WAL; `synchronous=NORMAL` survives a killed process,
 *   `synchronous=FULL` fsyncs every commit), doing the same work per append: zod validation, the
 *   journal-order fold, one transaction inserting the entry and updating the run's summary row.
 *
 * Rows: appends/s with one writer awaiting each append (1 fact per append); appends/s with 8 runs
 * appending concurrently; appends/s with 32 appends of one run in flight (group commit), each with
 * the CPU time (user + system) per append, steadier than wall time on a shared machine; and
 * bytes per step (attemptDispatched + stepCompleted with a ~100-byte output) on disk.
 *
 * better-sqlite3 is not a dependency: it is loaded from BETTER_SQLITE3_DIR (a directory where it
 * is installed, e.g. `npm install better-sqlite3@12` in /tmp/scratch) or skipped.
 * BENCH_MS (default 1500) is the time per measurement; JOURNAL_BENCH_DIR the scratch directory.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Table from 'cli-table3';
import { systemClock } from '../src/core/clock.js';
import { FileRunStore } from '../src/store/FileRunStore.js';
import type { JournalEntry, JournalFact } from '../src/store/journal.js';
import { buildEntries } from '../src/store/RunStore.js';
import { applyEntry, cloneState, type RunState } from '../src/store/summary.js';

const durationMs = Number(process.env['BENCH_MS'] ?? 1500);
const base = process.env['JOURNAL_BENCH_DIR'] ?? tmpdir();

/** The operations a bench row needs from an engine. */
interface Engine {
  append(runId: string, facts: JournalFact[], expectedSeq: number): Promise<unknown>;
  close(): Promise<void>;
  /** Bytes on disk. */
  size(): number;
}

const output = {
  artefact: 'registry.example.com/app:1.2.3',
  digest: 'sha256:0123456789abcdef0123456789abcdef',
};
const startFact: JournalFact = {
  kind: 'runStarted',
  pattern: 'deploy',
  specHash: 'sha256:abc',
  input: { v: 1 },
};
const stepFacts = (i: number): JournalFact[] => [
  {
    kind: 'attemptDispatched',
    step: `step-${i}`,
    attempt: 1,
    agent: 'builder',
    idempotencyKey: `run/step-${i}/1`,
    deadlineAt: 1_900_000_000_000,
  },
  { kind: 'stepCompleted', step: `step-${i}`, attempt: 1, output },
];
const signal = (i: number): JournalFact => ({ kind: 'signalReceived', signal: 'tick', payload: { i } });

function dirSize(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const s = statSync(join(dir, name));
    if (s.isFile()) total += s.size;
  }
  return total;
}

async function fileEngine(fsync: boolean): Promise<Engine> {
  const dir = mkdtempSync(join(base, 'nd-journal-'));
  const store = await FileRunStore.open({ dir, fsync });
  return {
    append: (runId, facts, expectedSeq) => store.append(runId, facts, { expectedSeq }),
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
    size: () => dirSize(join(dir, 'runs')),
  };
}

interface Statement {
  run(...args: unknown[]): unknown;
}
interface Database {
  pragma(source: string): unknown;
  exec(source: string): unknown;
  prepare(source: string): Statement;
  transaction(
    fn: (entries: JournalEntry[], state: RunState) => void,
  ): (entries: JournalEntry[], state: RunState) => void;
  close(): void;
}
type DatabaseCtor = new (file: string) => Database;

function loadSqlite(): DatabaseCtor | undefined {
  const from = process.env['BETTER_SQLITE3_DIR'];
  if (!from) return undefined;
  return createRequire(join(from, 'package.json'))('better-sqlite3') as DatabaseCtor;
}

function sqliteEngine(Database: DatabaseCtor, fsync: boolean): Engine {
  const dir = mkdtempSync(join(base, 'nd-sqlite-'));
  const db = new Database(join(dir, 'runs.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${fsync ? 'FULL' : 'NORMAL'}`);
  db.exec(`CREATE TABLE entries (run_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL,
             body TEXT NOT NULL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
           CREATE TABLE runs (run_id TEXT PRIMARY KEY, pattern TEXT, status TEXT, started_at INTEGER,
             finished_at INTEGER, last_seq INTEGER) WITHOUT ROWID;`);
  const insert = db.prepare('INSERT INTO entries VALUES (?, ?, ?, ?, ?)');
  const upsert = db.prepare(
    `INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET status = excluded.status,
       finished_at = excluded.finished_at, last_seq = excluded.last_seq`,
  );
  const commit = db.transaction((entries: JournalEntry[], state: RunState) => {
    for (const e of entries) insert.run(e.runId, e.seq, e.at, e.kind, JSON.stringify(e));
    const s = state.summary;
    upsert.run(s.runId, s.pattern, s.status, s.startedAt, s.finishedAt ?? null, s.lastSeq);
  });
  const states = new Map<string, RunState>();
  return {
    append: async (runId, facts, expectedSeq) => {
      // the same per-append work as FileRunStore: validation, order fold, then the commit
      const entries = buildEntries(runId, facts, { expectedSeq }, systemClock);
      const prev = states.get(runId);
      if ((prev?.summary.lastSeq ?? 0) !== expectedSeq) throw new Error('conflict');
      let state = prev === undefined ? undefined : cloneState(prev);
      for (const e of entries) state = applyEntry(state, e);
      commit(entries, state!);
      states.set(runId, state!);
    },
    close: async () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
    size: () => {
      db.pragma('wal_checkpoint(TRUNCATE)');
      return dirSize(dir);
    },
  };
}

/** Appends/s of `writers` runs, each keeping `inFlight` single-fact appends outstanding. */
async function throughput(
  engine: Engine,
  writers: number,
  inFlight: number,
  ms = durationMs,
): Promise<{ perSec: number; cpuUs: number }> {
  const seqs = Array.from({ length: writers }, () => 1);
  const runIds = seqs.map((_, w) => `w${w}-${Math.random().toString(36).slice(2, 8)}`);
  await Promise.all(runIds.map((id) => engine.append(id, [startFact], 0)));
  let count = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    runIds.map(async (runId, w) => {
      while (performance.now() < end) {
        const batch = Array.from({ length: inFlight }, () => {
          const seq = seqs[w]!;
          seqs[w] = seq + 1;
          return engine.append(runId, [signal(seq)], seq);
        });
        await Promise.all(batch);
        count += inFlight;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return {
    perSec: Math.round((count * 1000) / (performance.now() - started)),
    cpuUs: Math.round((cpu.user + cpu.system) / count),
  };
}

/** Bytes on disk per step (dispatch + completion) for a 200-step run. */
async function bytesPerStep(engine: Engine): Promise<number> {
  const steps = 200;
  await engine.append('bytes', [startFact], 0);
  for (let i = 0; i < steps; i += 1) await engine.append('bytes', stepFacts(i), 1 + 2 * i);
  const before = engine.size();
  await engine.append('bytes2', [startFact], 0);
  const start = engine.size() - before;
  return Math.round((engine.size() - start) / steps);
}

const Sqlite = loadSqlite();
const engines: { name: string; make: () => Promise<Engine> }[] = [
  { name: 'file journal', make: () => fileEngine(false) },
  { name: 'file journal, fsync', make: () => fileEngine(true) },
  ...(Sqlite
    ? [
        { name: 'sqlite WAL, sync=NORMAL', make: async () => sqliteEngine(Sqlite, false) },
        { name: 'sqlite WAL, sync=FULL', make: async () => sqliteEngine(Sqlite, true) },
      ]
    : []),
];

// Warm-up (JIT, zod's lazily built parsers, page cache) of every engine before any row is measured.
for (const { make } of engines) {
  const engine = await make();
  await throughput(engine, 2, 4, 300);
  await engine.close();
}

const table = new Table({
  head: ['engine', 'appends/s, 1 writer', 'appends/s, 8 runs', 'appends/s, 32 in flight', 'bytes/step'],
});
for (const { name, make } of engines) {
  const cells: (string | number)[] = [name];
  for (const [writers, inFlight] of [
    [1, 1],
    [8, 1],
    [1, 32],
  ] as const) {
    const engine = await make();
    const { perSec, cpuUs } = await throughput(engine, writers, inFlight);
    cells.push(`${perSec.toLocaleString('en')} (${cpuUs} µs CPU)`);
    await engine.close();
  }
  const engine = await make();
  cells.push(await bytesPerStep(engine));
  await engine.close();
  table.push(cells);
}
console.log(table.toString());
console.log(
  `node ${process.version}; ${durationMs} ms per cell; CPU = this process's user + system time per append; scratch dir ${base}${Sqlite ? '' : '; sqlite skipped (set BETTER_SQLITE3_DIR)'}`,
);
