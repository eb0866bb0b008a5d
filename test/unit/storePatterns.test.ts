import { describe, expect, it } from 'vitest';
import type { PatternSpec } from '../../src/core/spec.js';
import { StorePatterns } from '../../src/cli/storePatterns.js';
import type { JournalEntry } from '../../src/store/journal.js';

/** Which stored runs `ndf inspect --store` draws as their pattern's diagram, and which from their events. */

const seq = (...steps: string[]) =>
  ({ kind: 'sequential', steps: steps.map((name) => ({ name })) }) as unknown as PatternSpec;
const keys = (name: string, spec: PatternSpec) =>
  (spec as unknown as { steps: { name: string }[] }).steps.map((s) => `${name}/${s.name}`);

function started(
  pattern: string,
  source: string | undefined,
  steps: string[],
): Extract<JournalEntry, { kind: 'runStarted' }> {
  return {
    kind: 'runStarted',
    runId: 'r',
    seq: 1,
    at: 1,
    pattern,
    specHash: 'h',
    input: null,
    steps: steps.map((step) => ({ step, hash: 'x' })),
    ...(source === undefined ? {} : { source }),
  };
}

function patterns(files: Record<string, Record<string, PatternSpec>>): StorePatterns {
  return new StorePatterns(async (file) => {
    const found = files[file];
    if (found === undefined) throw new Error(`ENOENT ${file}`);
    return new Map(Object.entries(found));
  }, keys);
}

describe('StorePatterns', () => {
  it('uses the workflow file a run was started from while it defines the steps the run recorded', async () => {
    const p = patterns({ '/w.yaml': { etl: seq('a', 'b') } });
    await p.learn(started('etl', '/w.yaml', ['etl/a', 'etl/b']));
    expect(p.lookup('etl')).toEqual(seq('a', 'b'));
    expect(p.kindOf('etl')).toBe('sequential');
  });

  it('falls back to the run’s events: no source, a file that does not load, changed steps, runs that disagree', async () => {
    const files = { '/w.yaml': { etl: seq('a', 'b') }, '/v2.yaml': { etl: seq('a', 'c') } };
    const none = patterns(files);
    await none.learn(started('etl', undefined, ['etl/a', 'etl/b']));
    expect(none.lookup('etl')).toBeUndefined();
    expect(none.kindOf('etl')).toBe('');

    const gone = patterns(files);
    await gone.learn(started('etl', '/gone.yaml', ['etl/a', 'etl/b']));
    expect(gone.lookup('etl')).toBeUndefined();

    const changed = patterns(files);
    await changed.learn(started('etl', '/w.yaml', ['etl/a', 'etl/x']));
    expect(changed.lookup('etl')).toBeUndefined();

    const disagree = patterns(files);
    await disagree.learn(started('etl', '/w.yaml', ['etl/a', 'etl/b']));
    await disagree.learn(started('etl', '/v2.yaml', ['etl/a', 'etl/c']));
    expect(disagree.lookup('etl')).toBeUndefined();
  });
});
