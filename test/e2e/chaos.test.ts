import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tempDir.js';
import { campaign, readEffects, readJournal, seeded, workflowFor, type Effect, type Fact } from './chaos.js';
import { ROOT } from './cli.js';

const FIXTURES = path.join(ROOT, 'test/e2e/fixtures/chaos');
/** Kill points per pattern kind (the issue asks for at least 50). */
const KILLS = Number(process.env['NDF_CHAOS_KILLS'] ?? 50);

const KINDS = [
  { pattern: 'seq', fail: undefined },
  { pattern: 'seq', fail: 's5' },
  { pattern: 'par', fail: undefined },
  { pattern: 'par', fail: 't5' },
  { pattern: 'meta', fail: undefined },
  { pattern: 'meta', fail: 'm5' },
] as const;

/** The parts of a RunResult that must not depend on crashes. */
const essence = (f: Fact | undefined) => ({
  status: f?.result?.status,
  steps: f?.result?.steps.map((s) => ({
    name: s.name,
    status: s.status,
    attempts: s.attempts,
    output: s.output,
    compensation: s.compensation,
  })),
});

/** Steps compensated, in the order their (first) compensation ran. */
const undoOrder = (effects: Effect[]) => [
  ...new Set(effects.filter((e) => e.what === 'undo').map((e) => e.step)),
];

describe('chaos: ndf run killed (SIGKILL) at random points, then run again with the same --run-id', () => {
  for (const kind of KINDS) {
    const name = `${kind.pattern}${kind.fail ? ` failing at ${kind.fail} (rollback)` : ''}`;
    it(`${name}: no journaled step runs again, same keys, compensations once and in order, same result`, async () => {
      const dir = tempDir('ndf-chaos-');
      const workflow = workflowFor(FIXTURES, dir, kind.pattern);
      const store = path.join(dir, 'store');
      const random = seeded(kind.pattern.length * 7919 + (kind.fail ? 1 : 0));
      // the uninterrupted run
      const baseLog = path.join(dir, 'base.log');
      const base = await campaign({
        workflow,
        runId: 'base',
        store,
        log: baseLog,
        fail: kind.fail,
        random,
        expectedRecords: 0,
        maxKills: 0,
      });
      expect(base.code).toBe(kind.fail ? 1 : 0);
      const baseFinished = base.journal.at(-1);
      expect(baseFinished?.kind).toBe('runFinished');
      const expectedRecords = base.journal.length;
      let kills = 0;
      let torn = 0;
      let reExecuted = 0;
      /** One campaign and its checks against the agents' side-effect log. */
      const one = async (i: number): Promise<void> => {
        const log = path.join(dir, `run-${i}.log`);
        const c = await campaign({
          workflow,
          runId: `run-${i}`,
          store,
          log,
          fail: kind.fail,
          random,
          expectedRecords,
          maxKills: 6,
        });
        kills += c.kills.length;
        torn += c.kills.filter((k) => k.torn).length;
        const effects = readEffects(log);
        // 1. a step (or compensation) whose completion was journaled never runs again
        for (const kill of c.kills) {
          for (const e of effects.slice(kill.effects)) {
            // the journal's step key: the idempotency key without the run id (and /compensate)
            const step = e.key
              .split('/')
              .slice(1, e.what === 'undo' ? -1 : undefined)
              .join('/');
            const done = e.what === 'do' ? kill.completed : kill.compensated;
            expect(done.has(step), `${e.what} ${e.key} again after its completion was journaled`).toBe(false);
          }
        }
        // 2. every execution of a step (and of its compensation) carries the same idempotency key
        const keys = new Map<string, Set<string>>();
        for (const e of effects)
          keys.set(`${e.what} ${e.step}`, (keys.get(`${e.what} ${e.step}`) ?? new Set()).add(e.key));
        for (const [step, set] of keys) expect([...set], `${step}: one key`).toHaveLength(1);
        reExecuted += effects.length - keys.size;
        // 3. compensations: each step's once (by its key), in the uninterrupted run's order
        expect(undoOrder(effects)).toEqual(undoOrder(readEffects(baseLog)));
        // 4. the same exit code and result as the uninterrupted run
        expect(c.code).toBe(base.code);
        expect(essence(c.journal.at(-1))).toEqual(essence(baseFinished));
      };
      // campaigns three at a time (different run ids and logs), until enough kills
      for (let i = 0; kills < KILLS; i += 3) await Promise.all([one(i), one(i + 1), one(i + 2)]);
      console.log(
        `chaos ${name}: ${kills} kills (${torn} with a torn journal record), ${reExecuted} re-executions of in-flight steps`,
      );
      expect(kills).toBeGreaterThanOrEqual(KILLS);
      expect(readJournal(path.join(store, 'runs', 'base.ndj')).length).toBe(expectedRecords);
    }, 300_000);
  }
});
