import { and, fromPromise, not, setup } from 'xstate';
import type { RunEvent } from '../../src/core/events.js';
import { stepSpec } from '../../src/core/spec.js';
import type { SequentialSpec } from '../../src/core/spec.js';

/** A hand-built machine with nesting, a parallel state, always, after (number and named), guards and an invoke. */
export const sampleMachine = setup({
  types: { events: {} as { type: 'GO' } | { type: 'STOP' } | { type: 'PING' } },
  guards: { ok: () => true, big: () => false },
  delays: { retryDelay: 500 },
  actors: { work: fromPromise(async () => 1) },
}).createMachine({
  id: 'sample',
  initial: 'idle',
  on: { STOP: '.stopped' },
  states: {
    idle: {
      on: {
        GO: [
          { target: 'working', guard: 'ok' },
          { target: 'both', guard: and(['ok', not('big')]) },
        ],
        PING: {},
      },
      after: { 1000: 'working', retryDelay: 'both' },
    },
    working: {
      invoke: { src: 'work', id: 'job', onDone: 'both', onError: 'idle' },
      always: { target: 'stopped', guard: 'big' },
    },
    both: {
      type: 'parallel',
      onDone: 'stopped',
      states: {
        left: { initial: 'l1', states: { l1: { on: { GO: 'l2' } }, l2: { type: 'final' } } },
        right: { initial: 'r1', states: { r1: { on: { GO: 'r2' } }, r2: { type: 'final' } } },
      },
    },
    stopped: { type: 'final' },
  },
});

/** A three-step saga. */
export const saga: SequentialSpec = {
  kind: 'sequential',
  rollbackEnabled: true,
  steps: [
    stepSpec('extract', { agent: 'reader' }),
    stepSpec('transform', {
      retry: {
        maxAttempts: 3,
        backoff: { initialDelayMs: 100, maxDelayMs: 1000, multiplier: 2, jitter: 'full' },
      },
      timeoutMs: 5000,
    }),
    stepSpec('load'),
  ],
};

const base = { runId: 'r1' };
/** A run of `saga` in which `load` failed and the two earlier steps were compensated in reverse. */
export const sagaTrace: RunEvent[] = [
  { type: 'run.started', at: 0, ...base, pattern: 'etl', patternType: 'sequential' },
  {
    type: 'step.status',
    at: 1,
    ...base,
    path: ['etl'],
    step: 'extract',
    status: 'running',
    agent: 'reader',
    attempt: 1,
  },
  {
    type: 'step.status',
    at: 10,
    ...base,
    path: ['etl'],
    step: 'extract',
    status: 'completed',
    agent: 'reader',
    attempt: 1,
  },
  {
    type: 'step.status',
    at: 11,
    ...base,
    path: ['etl'],
    step: 'transform',
    status: 'running',
    agent: 'tx',
    attempt: 1,
  },
  {
    type: 'step.status',
    at: 15,
    ...base,
    path: ['etl'],
    step: 'transform',
    status: 'retrying',
    agent: 'tx',
    attempt: 1,
  },
  {
    type: 'step.status',
    at: 20,
    ...base,
    path: ['etl'],
    step: 'transform',
    status: 'completed',
    agent: 'tx',
    attempt: 2,
  },
  {
    type: 'step.status',
    at: 21,
    ...base,
    path: ['etl'],
    step: 'load',
    status: 'running',
    agent: 'db',
    attempt: 1,
  },
  {
    type: 'step.status',
    at: 30,
    ...base,
    path: ['etl'],
    step: 'load',
    status: 'failed',
    agent: 'db',
    attempt: 1,
    error: { name: 'AgentError', code: 'ND_AGENT_ERROR', message: 'disk full' },
  },
  {
    type: 'step.status',
    at: 31,
    ...base,
    path: ['etl'],
    step: 'transform',
    status: 'compensating',
    agent: 'tx',
    attempt: 2,
  },
  {
    type: 'step.status',
    at: 32,
    ...base,
    path: ['etl'],
    step: 'transform',
    status: 'compensated',
    agent: 'tx',
    attempt: 2,
  },
  {
    type: 'step.status',
    at: 33,
    ...base,
    path: ['etl'],
    step: 'extract',
    status: 'compensated',
    agent: 'reader',
    attempt: 1,
  },
  {
    type: 'transition',
    at: 33,
    ...base,
    actor: 'run/etl',
    machine: 'sequential',
    state: 'rolledBack',
    event: 'x',
  },
  { type: 'run.finished', at: 34, ...base, pattern: 'etl', status: 'rolledBack', durationMs: 34 },
];

/** Names that break naive renderers. */
export const awkwardNames = [
  'with space',
  'dash-ed',
  'say "hi"',
  "it's",
  'ünïcødé ✓ 日本',
  'semi;colon',
  'hash # tag',
  'back\\slash',
  '<br/> & <b>',
  'arrow --> x',
  'end',
  'state',
  '%% comment',
  '{brace}',
  'colon: here',
  '[*]',
];
