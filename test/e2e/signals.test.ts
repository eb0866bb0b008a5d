import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startNdf, type NdfProcess } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';
import { alive, pidWritten, until } from '../helpers/processes.js';

/**
 * `ndf run` under SIGINT, SIGTERM, SIGHUP and SIGKILL, with real commands: sh scripts that
 * record their pids and write marker files. A saga `done` → `slow`: `done` completes (its undo
 * writes `done.undo`), `slow` runs a wrapper whose child sleeps; the test signals ndf once
 * `slow`'s child is up.
 */

function script(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${lines.join('\n')}\n`, { mode: 0o755 });
  return file;
}

interface Setup {
  dir: string;
  workflow: string;
  /** The pids of `slow`'s wrapper and its child, once both run. */
  pids(): Promise<number[]>;
}

/** `stubborn`: the wrapper and its child ignore SIGTERM (only SIGKILL ends them). */
function setup(stubborn: boolean): Setup {
  const dir = tempDir('ndf-signals-');
  const trap = stubborn ? ["trap '' TERM"] : [];
  script(dir, 'done.sh', ['cat > /dev/null', `echo '"done"'`]);
  script(dir, 'undo.sh', ['cat > /dev/null', `echo undone > "${dir}/done.undo"`]);
  script(dir, 'slow.sh', [
    ...trap,
    `echo $$ > "${dir}/wrapper.pid"`,
    `(${trap.join('')}${stubborn ? '; ' : ''}sleep 30; echo late > "${dir}/child.late") &`,
    `echo $! > "${dir}/child.pid"`,
    'sleep 30',
    `echo late > "${dir}/wrapper.late"`,
  ]);
  const workflow = path.join(dir, 'workflow.json');
  writeFileSync(
    workflow,
    JSON.stringify({
      version: 1,
      name: 'signals',
      agents: {
        quick: { kind: 'command', command: ['./done.sh'], capabilities: ['done'], compensate: ['./undo.sh'] },
        sleeper: { kind: 'command', command: ['./slow.sh'], capabilities: ['slow'] },
      },
      patterns: { saga: { type: 'sequential', steps: ['done', 'slow'] } },
      run: { pattern: 'saga', timeoutMs: 60_000 },
    }),
  );
  const pidFile = (name: string) => path.join(dir, `${name}.pid`);
  return {
    dir,
    workflow,
    pids: async () => {
      await until(() => pidWritten(pidFile('child')), 15_000, 'slow runs');
      return ['wrapper', 'child'].map((name) => Number(readFileSync(pidFile(name), 'utf8').trim()));
    },
  };
}

/** `ndf run` without the store: a stop signal cancels the run (with the store it suspends it: durable.test.ts). */
function run(s: Setup, graceMs: number): NdfProcess {
  return startNdf(['run', s.workflow, '--no-progress', '--no-store'], {
    cwd: s.dir,
    env: { NDF_KILL_GRACE_MS: String(graceMs) },
  });
}

describe('ndf run --no-store and signals', () => {
  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)(
    '%s cancels the run: the command tree is killed, completed steps compensated, exit %i',
    async (signal, code) => {
      const s = setup(false);
      const ndf = run(s, 2_000);
      const pids = await s.pids();
      const sent = Date.now();
      ndf.child.kill(signal);
      expect(await ndf.exited).toBe(code);
      expect(Date.now() - sent).toBeLessThan(5_000);
      expect(pids.filter(alive)).toEqual([]);
      expect(readFileSync(path.join(s.dir, 'done.undo'), 'utf8')).toBe('undone\n');
      expect(ndf.output()).toMatch(/│ done +│ ↺ compensated/);
      expect(ndf.output()).toMatch(/│ slow +│ ⊘ cancelled/);
      expect(ndf.errors()).toContain(`${signal}: cancelling the run`);
    },
  );

  it('Ctrl-C while the command and its child ignore SIGTERM: they are SIGKILLed before ndf reports', async () => {
    const s = setup(true);
    const ndf = run(s, 500);
    const pids = await s.pids();
    ndf.child.kill('SIGINT');
    // Still running during the grace period…
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pids.filter(alive)).toEqual(pids);
    expect(await ndf.exited).toBe(130);
    // …and gone by the time ndf exits: none finishes its side effect after the run.
    expect(pids.filter(alive)).toEqual([]);
    expect(ndf.output()).toContain('was cancelled');
    expect(existsSync(path.join(s.dir, 'done.undo'))).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(['wrapper.late', 'child.late'].filter((f) => existsSync(path.join(s.dir, f)))).toEqual([]);
  });

  it('a second signal exits at once and still kills the commands', async () => {
    const s = setup(true);
    const ndf = run(s, 20_000); // the grace period would outlast the test
    const pids = await s.pids();
    ndf.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = Date.now();
    ndf.child.kill('SIGTERM');
    expect(await ndf.exited).toBe(143);
    expect(Date.now() - second).toBeLessThan(2_000);
    await until(() => pids.every((pid) => !alive(pid)), 1_000, 'the commands die with ndf');
    expect(ndf.errors()).toContain('SIGTERM again: stopping at once');
  });

  it('SIGKILL of ndf: its watchdog kills the running commands', async () => {
    const s = setup(false);
    const ndf = run(s, 500);
    const pids = await s.pids();
    ndf.child.kill('SIGKILL');
    await ndf.exited;
    // Generous: on a loaded machine the watchdog's node may still be starting up.
    await until(() => pids.every((pid) => !alive(pid)), 10_000, 'the commands die after ndf');
  });
});
