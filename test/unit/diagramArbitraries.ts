import fc from 'fast-check';
import { stepSpec } from '../../src/core/spec.js';
import type { PatternSpec } from '../../src/core/spec.js';
import { awkwardNames, saga } from './diagramFixtures.js';

/** fast-check arbitraries for the diagram properties: random small machine configs and pattern specs. */

export const nameArb = fc.oneof(
  fc.constantFrom(...awkwardNames),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }),
);
/** XState state keys: no '.' (path separator), '\\' (escape) or leading '#' (id reference). */
const keyArb = nameArb.filter((k) => !/[.\\]/.test(k) && !k.startsWith('#') && k.trim() !== '');

/** Random machine configs: up to depth 2, compound/parallel/final/atomic, events, guards, after, always. */
export const machineArb = fc.letrec((tie) => ({
  states: fc
    .uniqueArray(keyArb, { minLength: 1, maxLength: 3 })
    .chain((keys) => fc.tuple(...keys.map(() => tie('state'))).map((configs) => ({ keys, configs }))),
  state: fc.record({
    type: fc.constantFrom('atomic', 'final', 'compound', 'parallel'),
    events: fc.array(fc.tuple(nameArb, fc.nat(5), fc.option(nameArb, { nil: undefined })), { maxLength: 2 }),
    after: fc.option(fc.nat(5000), { nil: undefined }),
    always: fc.option(nameArb, { nil: undefined }),
    depth: fc.nat(1),
  }),
}));

export type StateArb = {
  type: string;
  events: [string, number, string | undefined][];
  after?: number | undefined;
  always?: string | undefined;
  depth: number;
};
export function buildStates(
  keys: string[],
  configs: StateArb[],
  nested: { keys: string[]; configs: StateArb[] },
  level: number,
): Record<string, object> {
  const states: Record<string, object> = {};
  keys.forEach((key, i) => {
    const c = configs[i]!;
    const target = (n: number): string => keys[n % keys.length]!;
    const container = level < 2 && (c.type === 'compound' || c.type === 'parallel');
    states[key] = {
      ...(c.type === 'final' ? { type: 'final' } : {}),
      ...(container
        ? {
            type: c.type,
            ...(c.type === 'compound' ? { initial: nested.keys[0] } : {}),
            states: buildStates(nested.keys, nested.configs, nested, level + 1),
          }
        : {}),
      ...(c.type === 'final'
        ? {}
        : {
            on: Object.fromEntries(
              c.events.map(([ev, n, guard]) => [
                ev,
                { target: target(n), ...(guard === undefined ? {} : { guard }) },
              ]),
            ),
          }),
      ...(c.type === 'final' || c.after === undefined ? {} : { after: { [c.after]: target(c.after) } }),
      ...(c.type === 'final' || c.always === undefined
        ? {}
        : { always: { target: target(1), guard: c.always } }),
    };
  });
  return states;
}

const stepArb = fc.record({
  name: nameArb,
  attempts: fc.integer({ min: 1, max: 4 }),
  timeout: fc.option(fc.nat(60_000), { nil: undefined }),
});
export const patternArb: fc.Arbitrary<PatternSpec> = fc.oneof(
  fc
    .record({
      steps: fc.uniqueArray(stepArb, { selector: (s) => s.name, maxLength: 4 }),
      rollback: fc.boolean(),
    })
    .map(({ steps, rollback }) => ({
      kind: 'sequential' as const,
      rollbackEnabled: rollback,
      steps: steps.map((s) =>
        stepSpec(s.name, {
          timeoutMs: s.timeout,
          retry: { maxAttempts: s.attempts, backoff: saga.steps[1]!.retry.backoff },
        }),
      ),
    })),
  fc
    .uniqueArray(fc.tuple(nameArb, fc.array(fc.nat(), { maxLength: 2 })), {
      selector: (t) => t[0],
      minLength: 1,
      maxLength: 5,
    })
    .map((tasks) => ({
      kind: 'parallel' as const,
      maxConcurrent: 2,
      resourceThreshold: 1,
      failureTolerance: 0.1,
      rollbackEnabled: true,
      tasks: tasks.map(([name, deps], i) =>
        stepSpec(name, { dependsOn: i === 0 ? [] : [...new Set(deps.map((d) => tasks[d % i]![0]))] }),
      ),
    })),
  fc
    .array(
      fc.record({
        name: nameArb,
        patterns: fc.array(nameArb, { minLength: 1, maxLength: 3 }),
        par: fc.boolean(),
      }),
      { minLength: 1, maxLength: 3 },
    )
    .map((phases) => ({
      kind: 'meta' as const,
      rollbackStrategy: 'complete' as const,
      complexityThreshold: 0.5,
      phases: phases.map((p) => ({
        name: p.name,
        patterns: p.patterns,
        coordination: p.par ? ('parallel' as const) : ('sequential' as const),
        successCriteria: { maxErrorCount: 1 },
      })),
    })),
);
