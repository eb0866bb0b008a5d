import { describe, expect, it } from 'vitest';
import type { AnyActorRef, InspectionEvent } from 'xstate';
import { defineAgent } from '../../src/actors/agent.js';
import { isPatternValidationError } from '../../src/core/errors.js';
import type { RunEvent } from '../../src/core/events.js';
import { PatternExecutor } from '../../src/runtime/PatternExecutor.js';
import { PatternRegistry } from '../../src/runtime/PatternRegistry.js';
import { SequentialDelegationPattern } from '../../src/runtime/patterns/index.js';

function executor(onEvent?: (e: RunEvent) => void, warnings?: unknown[]): PatternExecutor {
  const registry = new PatternRegistry();
  registry.registerPattern(
    new SequentialDelegationPattern({
      name: 'etl',
      description: 'd',
      steps: [
        { name: 'extract', capability: 'c' },
        { name: 'load', capability: 'c' },
      ],
    }),
  );
  const logger = {
    warn: (obj: unknown) => warnings?.push(obj),
    info: () => undefined,
    error: () => undefined,
    debug: () => undefined,
    child() {
      return this;
    },
  };
  return new PatternExecutor(registry, {
    agents: [defineAgent({ id: 'w', capabilities: ['c'], handler: (t) => `${t.step} done` })],
    ...(onEvent ? { onEvent } : {}),
    ...(warnings ? { logger: logger as never } : {}),
  });
}

const snapshotsOf = (events: InspectionEvent[]) =>
  events
    .filter((e) => e.type === '@xstate.snapshot')
    .map((e) => [(e.actorRef as AnyActorRef).id, (e.snapshot as { value?: unknown }).value]);

describe('RunOptions.inspect: an XState inspection observer on the run', () => {
  it('sees the run actor and every step actor, as a function or as an observer', async () => {
    const seen: InspectionEvent[] = [];
    const ex = executor();
    const result = await ex.run('etl', {}, { inspect: (e) => seen.push(e) });
    expect(result.status).toBe('succeeded');
    const actors = seen.filter((e) => e.type === '@xstate.actor').map((e) => (e.actorRef as AnyActorRef).id);
    expect(actors).toEqual(expect.arrayContaining(['extract', 'load']));
    expect(snapshotsOf(seen)).toEqual(
      expect.arrayContaining([
        ['extract', 'completed'],
        ['load', 'completed'],
      ]),
    );
    const viaObserver: InspectionEvent[] = [];
    await ex.run('etl', {}, { inspect: { next: (e) => viaObserver.push(e) } });
    const steps = (e: InspectionEvent[]) =>
      snapshotsOf(e).filter(([id]) => id === 'extract' || id === 'load');
    expect(steps(viaObserver)).toEqual(steps(seen));
    expect(steps(seen).length).toBeGreaterThanOrEqual(4);
    await ex.close();
  });

  it('runs beside traceTransitions: both see the transitions', async () => {
    const transitions: RunEvent[] = [];
    const ex = executor((e) => e.type === 'transition' && transitions.push(e));
    const seen: InspectionEvent[] = [];
    await ex.run('etl', {}, { traceTransitions: true, inspect: (e) => seen.push(e) });
    await ex.close();
    expect(transitions.length).toBeGreaterThan(0);
    expect(seen.filter((e) => e.type === '@xstate.snapshot').length).toBeGreaterThanOrEqual(
      transitions.length,
    );
  });

  it('an observer that throws is logged with the run id and does not fail the run', async () => {
    const warnings: unknown[] = [];
    const ex = executor(undefined, warnings);
    const result = await ex.run(
      'etl',
      {},
      {
        runId: 'r-throws',
        inspect: () => {
          throw new Error('inspector broke');
        },
      },
    );
    await ex.close();
    expect(result.status).toBe('succeeded');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings[0]).toMatchObject({ runId: 'r-throws', err: { message: 'inspector broke' } });
  });

  it('rejects an inspect that is neither a function nor an observer, naming the field', async () => {
    const ex = executor();
    const error: unknown = await ex.run('etl', {}, { inspect: 'stately' as never }).catch((e: unknown) => e);
    await ex.close();
    expect(isPatternValidationError(error)).toBe(true);
    expect((error as Error).message).toContain(
      'run options.inspect: must be a function or an observer with next()',
    );
  });
});
