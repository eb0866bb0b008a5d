import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { loadMode } from '../../src/cli/commands/validate.js';
import { isWorkflowError } from '../../src/cli/workflow/issues.js';
import { loadWorkflowText } from '../../src/cli/workflow/load.js';

/**
 * Fuzzes the workflow loader as `ndf validate` runs it (static: nothing imported or contacted)
 * with generated and mutated documents. Every outcome must be a valid workflow or a
 * WorkflowError whose every issue names a field or a line: never another exception (which the
 * CLI would print as a stack trace with exit 1).
 */

const root = path.resolve(import.meta.dirname, '../..');
/** The examples without their comments (shorter documents keep 5,000 runs fast), and a compact one. */
const seeds = [
  ...['examples/data-pipeline/workflow.yaml', 'examples/project-check/workflow.yaml'].map((f) =>
    readFileSync(path.join(root, f), 'utf8')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n'),
  ),
  [
    'version: 1',
    'name: compact',
    'agents:',
    '  sh: { kind: command, capabilities: [a, b], command: [node, -e, "0"], timeoutMs: 1000 }',
    '  mod: { kind: module, capabilities: [c], module: ./steps.mjs }',
    '  remote: { kind: nats, capabilities: [d], servers: nats://127.0.0.1:1 }',
    'patterns:',
    '  seq: { type: sequential, steps: [a, { name: b, timeoutMs: 10, retry: { maxAttempts: 2 } }] }',
    '  par: { type: parallel, tasks: [{ name: a }, { name: b, dependsOn: [a] }], timeoutSeconds: 5 }',
    '  meta: { type: meta, phases: [{ name: p, patterns: [seq, par] }] }',
    'run: { pattern: meta, timeoutMs: 5000, input: { x: 1 } }',
  ].join('\n'),
];
const file = path.join(root, 'examples/data-pipeline/fuzzed.yaml');

/** Fragments that stress the YAML parser and the schema. */
const tokens = [
  '*a0',
  '&a0 ',
  '*a0 ',
  '[',
  ']',
  '{',
  '}',
  ': ',
  '- ',
  '? ',
  '!!binary ',
  '!!str ',
  '!foo ',
  '<<: ',
  '\t',
  '---\n',
  '...\n',
  '%YAML 1.1\n',
  '"',
  "'",
  '|',
  '>',
  '#',
  '\n',
  '  ',
  'null',
  '~',
  '99999999999',
  '2147483648',
  '-1',
  '1e309',
  'NaN',
  '.inf',
  '__proto__',
  'constructor',
  'kind: nats',
  'kind: module',
  'timeoutMs: 99999999999',
  'dependsOn: [x]',
  '\u0000',
  '\uFEFF',
  'é',
  '\r\n',
];

const mutation = (text: string): fc.Arbitrary<string> =>
  fc.oneof(
    // insert a token
    fc
      .tuple(fc.nat(text.length), fc.constantFrom(...tokens))
      .map(([at, t]) => text.slice(0, at) + t + text.slice(at)),
    // delete a range
    fc.tuple(fc.nat(text.length), fc.nat(40)).map(([at, n]) => text.slice(0, at) + text.slice(at + n)),
    // duplicate or drop a line
    fc.nat(200).map((i) => {
      const lines = text.split('\n');
      const k = i % lines.length;
      return (
        i % 2 === 0 ? [...lines.slice(0, k), lines[k], ...lines.slice(k)] : lines.filter((_, j) => j !== k)
      ).join('\n');
    }),
    // replace a scalar value with a hostile one
    fc.tuple(fc.nat(200), fc.constantFrom(...tokens)).map(([i, t]) => {
      const lines = text.split('\n');
      const k = i % lines.length;
      lines[k] = (lines[k] ?? '').replace(/:\s.*$/, `: ${t}`);
      return lines.join('\n');
    }),
  );

/** A seed with 1..4 mutations applied one after another. */
const mutated = fc.tuple(fc.constantFrom(...seeds), fc.integer({ min: 1, max: 4 })).chain(([seed, n]) => {
  let arb: fc.Arbitrary<string> = fc.constant(seed);
  for (let i = 0; i < n; i++) arb = arb.chain(mutation);
  return arb;
});

/** Random values as YAML or JSON, alone or as the value of a workflow field. */
const generated = fc
  .tuple(
    fc.jsonValue({ maxDepth: 4 }),
    fc.constantFrom('agents', 'patterns', 'run', 'name', undefined),
    fc.boolean(),
  )
  .map(([value, key, asJson]) => {
    const doc = key === undefined ? value : { name: 'w', agents: {}, patterns: {}, [key]: value };
    return asJson ? JSON.stringify(doc) : stringify(doc);
  });

/** Alias expansions ("billion laughs") and aliases without anchors. */
const aliases = fc.integer({ min: 1, max: 12 }).map((levels) => {
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++)
    lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
  lines.push(`name: *a${levels}`);
  return lines.join('\n');
});

/** Deep nesting of flow and block collections. */
const nested = fc
  .tuple(fc.integer({ min: 1, max: 300 }), fc.boolean())
  .map(([depth, flow]) =>
    flow
      ? `name: ${'['.repeat(depth)}${']'.repeat(depth)}`
      : Array.from({ length: Math.min(depth, 200) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'),
  );

type Outcome = { ok: true } | { ok: false; error: unknown };

async function load(text: string): Promise<Outcome> {
  try {
    await loadWorkflowText(text, file, loadMode(false));
    return { ok: true };
  } catch (error) {
    return { ok: false, error };
  }
}

function assertReported(text: string, outcome: Outcome): void {
  if (outcome.ok) return;
  const { error } = outcome;
  if (!isWorkflowError(error))
    throw new Error(`the loader threw ${String(error)} for:\n${text.slice(0, 500)}`);
  expect(error.issues.length).toBeGreaterThan(0);
  for (const issue of error.issues) {
    expect(issue.message).not.toBe('');
    // Named by a field or a line.
    expect(issue.path.length > 0 || issue.line !== undefined).toBe(true);
  }
}

describe('workflow loader fuzz (static validation)', () => {
  it('reports every generated or mutated document as valid or as issues with a field or line', async () => {
    let runs = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof({ arbitrary: mutated, weight: 6 }, generated, aliases, nested),
        async (text) => {
          runs++;
          const outcome = await load(text);
          if (!outcome.ok) rejected++;
          assertReported(text, outcome);
        },
      ),
      { numRuns: 5000, seed: 20261204 },
    );
    expect(runs).toBe(5000);
    // Not everything is rejected: the mutations leave some documents valid.
    expect(rejected).toBeGreaterThan(0);
    expect(rejected).toBeLessThan(runs);
  }, 60_000);

  it('reports an alias without an anchor at its line, not as a ReferenceError', async () => {
    const outcome = await load('name: x\nagents: *a0\n');
    assertReported('', outcome);
    const error = (outcome as { error: { issues: { message: string; line?: number }[] } }).error;
    expect(error.issues[0]?.line).toBe(2);
    expect(error.issues[0]?.message).toMatch(/Unresolved alias.*a0/);
  });

  it('reports an alias bomb as too many aliases', async () => {
    const bomb = fc.sample(aliases.filter(Boolean), { seed: 1, numRuns: 1 })[0] ?? '';
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 9; i++)
      lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    lines.push('name: *a8');
    const outcome = await load(lines.join('\n'));
    expect(bomb).toContain('a0');
    assertReported('', outcome);
    const error = (outcome as { error: { issues: { message: string; line?: number }[] } }).error;
    expect(error.issues[0]?.message).toMatch(/too many aliases/);
    expect(error.issues[0]?.line).toBeGreaterThan(0);
  });

  it('lists at most 20 issues for a deeply nested document', async () => {
    const outcome = await load(`name: ${'['.repeat(20_000)}`);
    assertReported('', outcome);
    const error = (outcome as { error: { issues: { message: string }[] } }).error;
    expect(error.issues.length).toBeLessThanOrEqual(20);
    expect(error.issues.at(-1)?.message).toMatch(/more syntax errors/);
  });
});

describe('workflow keys', () => {
  it('reports a map used as a key at its line', async () => {
    const outcome = await load('name: w\n? [a, b]\n: 1\n');
    assertReported('', outcome);
    const error = (outcome as { error: { issues: { message: string; line?: number }[] } }).error;
    expect(error.issues).toEqual([
      expect.objectContaining({ message: 'a key must be a plain value, not a map or list', line: 2 }),
    ]);
  });
});
