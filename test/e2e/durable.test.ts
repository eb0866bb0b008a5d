import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tempDir.js';
import { ndf, parseJsonl, startNdf } from './cli.js';

/**
 * Durable runs through the command line: the run store (`--store`), `--run-id`, `ndf runs`,
 * `runs show`, `resume`, `cancel`, `signal` and `fork`, with command agents that count their
 * executions in files.
 */
function project(): { dir: string; store: string; workflow: string; count: (step: string) => number } {
  const dir = tempDir('ndf-durable-');
  const step = path.join(dir, 'step.sh');
  // logs its step (the last segment of its idempotency key); fails while $dir/fail-<step> exists;
  // sleeps $dir/sleep-<step> seconds when that file exists
  writeFileSync(
    step,
    [
      '#!/bin/sh',
      `key=$(printf '%s' "$NDF_TASK" | sed -n 's/.*"idempotencyKey":"\\([^"]*\\)".*/\\1/p')`,
      's=${key%/compensate}; s=${s##*/}',
      `echo "$1 $s" >> "${dir}/effects.log"`,
      `[ -f "${dir}/sleep-$s" ] && sleep "$(cat "${dir}/sleep-$s")"`,
      `[ "$1" = do ] && [ -f "${dir}/fail-$s" ] && { echo "$s is broken" >&2; exit 1; }`,
      `echo "{\\"step\\":\\"$s\\"}"`,
    ].join('\n'),
    { mode: 0o755 },
  );
  const workflow = path.join(dir, 'workflow.yaml');
  writeFileSync(
    workflow,
    [
      'version: 1',
      'name: durable',
      'agents:',
      '  w: { kind: command, command: [./step.sh, do], compensate: [./step.sh, undo], taskVia: env, capabilities: [work] }',
      'patterns:',
      '  flow:',
      '    type: sequential',
      '    steps:',
      '      - { name: prepare, capability: work }',
      '      - { name: approve, waitFor: { signal: approval, timeoutMs: 60000 } }',
      '      - { name: publish, capability: work }',
      '  plain:',
      '    type: sequential',
      '    steps:',
      '      - { name: a, capability: work }',
      '      - { name: b, capability: work }',
      '      - { name: c, capability: work }',
      'run: { pattern: plain, timeoutMs: 60000 }',
    ].join('\n'),
  );
  const count = (s: string) =>
    readFileSync(path.join(dir, 'effects.log'), 'utf8')
      .split('\n')
      .filter((l) => l === `do ${s}`).length;
  return { dir, store: path.join(dir, 'store'), workflow, count };
}

describe('ndf durable runs', () => {
  it('journals a run under its id: runs lists it, runs show tells its steps, the same id prints the recorded result', async () => {
    const p = project();
    const first = await ndf(['run', p.workflow, '--store', p.store, '--run-id', 'r1', '--no-progress']);
    expect(first.code).toBe(0);
    expect(first.stdout.split('\n')[0]).toBe(`run r1 (journal: ${p.store})`);
    const list = await ndf(['runs', '--store', p.store, '--json']);
    expect(parseJsonl(list.stdout)).toMatchObject([{ runId: 'r1', pattern: 'plain', status: 'succeeded' }]);
    const show = await ndf(['runs', 'show', 'r1', '--store', p.store]);
    expect(show.stdout).toMatch(/│ plain\/b +│ ✔ completed +│ w +│ 1 /);
    const again = await ndf(['run', p.workflow, '--store', p.store, '--run-id', 'r1', '--no-progress']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/plain ✔ succeeded .*\(run r1\)/);
    expect(['a', 'b', 'c'].map(p.count)).toEqual([1, 1, 1]);
    // what the agents' outcomes taught is kept in the store, and the next run learns on from it
    await ndf(['run', p.workflow, '--store', p.store, '--run-id', 'r1b', '--no-progress']);
    const stats = await ndf(['stats', '--store', path.join(p.store, 'patterns'), '--json']);
    const rows = JSON.parse(stats.stdout) as { kind: string; name: string; cell: string; samples: number }[];
    expect(rows.find((r) => r.kind === 'agent' && r.name === 'w' && r.cell === '*')?.samples).toBe(6);
    const bad = await ndf(['runs', 'show', 'nope', '--store', p.store]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('no run "nope" in the store');
  });

  it('Ctrl-C suspends a journaled run; ndf resume continues it without running completed steps again', async () => {
    const p = project();
    writeFileSync(path.join(p.dir, 'sleep-b'), '30');
    const running = startNdf(['run', p.workflow, '--store', p.store, '--run-id', 'r2', '--no-progress'], {
      env: { NDF_KILL_GRACE_MS: '200' },
    });
    await expect
      .poll(
        () => {
          try {
            return p.count('b');
          } catch {
            return 0;
          }
        },
        { timeout: 20_000 },
      )
      .toBe(1);
    running.child.kill('SIGINT');
    expect(await running.exited).toBe(130);
    expect(running.errors()).toContain('run r2 suspended: resume it with `npx ndf resume r2`');
    const listed = await ndf(['runs', '--store', p.store, '--json', '--status', 'running']);
    expect(parseJsonl(listed.stdout).map((r) => r.runId)).toEqual(['r2']);
    writeFileSync(path.join(p.dir, 'sleep-b'), '0');
    const resumed = await ndf(['resume', 'r2', '--store', p.store, '--no-progress']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/plain ✔ succeeded/);
    // a ran once; b was in flight (sent again, same key); c once
    expect(['a', 'b', 'c'].map(p.count)).toEqual([1, 2, 1]);
  });

  it('a step waits for a signal sent by ndf signal from another process', async () => {
    const p = project();
    const flow = p.workflow.replace('workflow.yaml', 'flow.yaml');
    writeFileSync(flow, readFileSync(p.workflow, 'utf8').replace('pattern: plain', 'pattern: flow'));
    const running = startNdf(['run', flow, '--store', p.store, '--run-id', 'r3', '--no-progress']);
    await expect
      .poll(async () => (await ndf(['runs', '--store', p.store, '--json'])).stdout, { timeout: 20_000 })
      .toContain('"status":"waiting"');
    const show = await ndf(['runs', 'show', 'r3', '--store', p.store]);
    expect(show.stdout).toContain('waits for signal approval: npx ndf signal r3 approval');
    const sent = await ndf(['signal', 'r3', 'approval', '--data', '{"by":"ann"}', '--store', p.store]);
    expect(sent.code).toBe(0);
    expect(sent.stderr).toContain('signal approval posted for run r3');
    expect(await running.exited).toBe(0);
    const result = await ndf(['runs', 'show', 'r3', '--store', p.store, '--json']);
    const details = JSON.parse(result.stdout) as { steps: { step: string; output: unknown }[] };
    expect(details.steps.find((s) => s.step === 'flow/approve')?.output).toEqual({ by: 'ann' });
  });

  it('ndf cancel compensates a suspended run; ndf fork re-runs a failed run from a step', async () => {
    const p = project();
    writeFileSync(path.join(p.dir, 'fail-c'), '');
    const failed = await ndf(['run', p.workflow, '--store', p.store, '--run-id', 'r4', '--no-progress']);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/rolledBack/);
    const refused = await ndf(['cancel', 'r4', '--store', p.store]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Cannot cancel run r4: it has finished (rolledBack)');
    // fix the agent, then fork from c: a and b are not run again
    const before = ['a', 'b', 'c'].map(p.count);
    writeFileSync(path.join(p.dir, 'fail-c'), '');
    const { unlinkSync } = await import('node:fs');
    unlinkSync(path.join(p.dir, 'fail-c'));
    const fork = await ndf([
      'fork',
      'r4',
      '--from',
      'c',
      '--run-id',
      'r5',
      '--store',
      p.store,
      '--no-progress',
    ]);
    expect(fork.code).toBe(0);
    expect(fork.stdout).toMatch(/plain ✔ succeeded .*\(run r5\)/);
    expect(['a', 'b', 'c'].map(p.count)).toEqual([before[0], before[1], before[2]! + 1]);
  });
});
