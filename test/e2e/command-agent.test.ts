import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ndf, ROOT } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';

const WORKFLOW = path.join(ROOT, 'test/e2e/fixtures/command-agent/workflow.json');

interface Echo {
  via: string;
  step: string;
  params: unknown;
  earlier: string[];
  greeting: string | null;
  argv: string[];
}
interface Recorded {
  version: number;
  kind: string;
  step: string;
  idempotencyKey: string;
  input: { params?: unknown; runInput: unknown; results: Record<string, unknown> };
  context: { domain: string };
  output: unknown;
  argv: string[];
}

describe('command agents (a JSON workflow file)', () => {
  it('pass the task as JSON on stdin or in env, read JSON or text stdout, fail with the stderr tail, run compensation commands', async () => {
    const cwd = tempDir('ndf-command-');
    const run = await ndf(['run', WORKFLOW], { cwd });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/│ last +│ ✖ failed +│ failing +│ 2 +│/);
    expect(run.stdout).toContain(
      'agents.failing.command: "node" exited with code 3: first line\nthe real reason: disk full',
    );
    expect(run.stdout).toMatch(/│ first +│ ↺ compensated +│ echo +│ 1 +│ [\d.]+ m?s +│ undone/);

    // The agent's own `compensate` argv undid `first`; the step-level command undid `second`; an agent undid `third`.
    expect((await readdir(cwd)).sort()).toEqual(['first.undo.json', 'second.undo.json', 'third.undo.json']);
    // `compensate: { agent: recorder }`: the recorder's handler gets the compensation task and output.
    const third = JSON.parse(await readFile(path.join(cwd, 'third.undo.json'), 'utf8')) as Recorded;
    expect(third).toMatchObject({
      version: 1,
      kind: 'compensate',
      step: 'third',
      output: 'plain text, not JSON',
      argv: ['by-agent'],
    });
    const first = JSON.parse(await readFile(path.join(cwd, 'first.undo.json'), 'utf8')) as Recorded;
    const second = JSON.parse(await readFile(path.join(cwd, 'second.undo.json'), 'utf8')) as Recorded;
    expect(first.kind).toBe('compensate');
    expect(first.argv).toEqual([]);
    expect(second.argv).toEqual(['second']);
    expect(first.idempotencyKey).toMatch(/\/compensate$/);
    expect(first.context.domain).toBe('test.contract');
    // Shell metacharacters in params arrive as data, untouched.
    const quote = `it's "quoted" $(rm -rf /)`;
    expect(first.output).toEqual({
      via: 'stdin',
      step: 'first',
      attempt: 1,
      params: { n: 1, quote },
      earlier: [],
      greeting: null,
      argv: [],
    });
    const echoed = second.output as Echo;
    expect(echoed).toMatchObject({
      via: 'env',
      step: 'second',
      earlier: ['first'],
      greeting: 'hello',
      argv: ['--from-env'],
    });
    expect(second.input.results.third).toBe('plain text, not JSON');
  });
});
