import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCommandAgent } from '../../src/actors/commandAgent.js';
import { allGroupsGone, defaultKillGraceMs, liveGroupCount } from '../../src/actors/processGroup.js';
import type { AgentTask } from '../../src/core/agent.js';
import { tempDir } from '../helpers/tempDir.js';
import { alive, pidWritten, until } from '../helpers/processes.js';
import { startFixture } from './processes.js';

/**
 * Real processes: sh scripts that record their pids and write marker files. A process counts as
 * alive while `ps` lists it and it is not a zombie (a container's PID 1 may not reap orphans).
 */

/** The pids of every descendant of `root` (children, their children, …). */
function descendants(root: number): number[] {
  const rows = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const parent = queue.shift();
    for (const [pid, ppid] of rows)
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
  }
  return found;
}

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

function task(signal: AbortSignal = new AbortController().signal): AgentTask {
  return {
    runId: 'run-1',
    pattern: 'p',
    step: 'slow',
    capability: 'x',
    attempt: 1,
    idempotencyKey: 'run-1/slow',
    input: { params: undefined, runInput: null, results: {} },
    context: { domain: 'test', agentType: 'x', priority: 1, attributes: {} },
    signal,
  };
}

const pidIn = (file: string): number => Number(readFileSync(file, 'utf8').trim());

describe('command agents kill the whole process tree', () => {
  it('a timeout is reported when it happens and kills the wrapper and its child', async () => {
    const dir = tempDir('ndf-tree-');
    // The case of the issue: `sleep 30; echo done` behind a wrapper, timeoutMs 1000.
    const wrapper = script(
      dir,
      'wrapper.sh',
      `echo $$ > "${dir}/wrapper.pid"\nsleep 30\necho done > "${dir}/done"`,
    );
    const agent = createCommandAgent({
      id: 'w',
      capabilities: ['x'],
      command: [wrapper],
      timeoutMs: 1_000,
      killGraceMs: 500,
    });
    const started = Date.now();
    const outcome = agent.execute(task()).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    await until(() => pidWritten(path.join(dir, 'wrapper.pid')), 5_000, 'the wrapper starts');
    const wrapperPid = pidIn(path.join(dir, 'wrapper.pid'));
    await until(() => descendants(wrapperPid).length > 0, 5_000, 'sleep starts');
    const tree = [wrapperPid, ...descendants(wrapperPid)];
    expect(await outcome).toBe('agent w.command: "' + wrapper + '" timed out after 1000 ms');
    expect(Date.now() - started).toBeLessThan(2_500);
    await until(() => tree.every((pid) => !alive(pid)), 2_000, `no process of ${tree.join(',')} left`);
    await allGroupsGone();
    expect(liveGroupCount()).toBe(0);
    expect(existsSync(path.join(dir, 'done'))).toBe(false);
  });

  it('a cancelled command that ignores SIGTERM, and its child that does too, are killed after the grace period', async () => {
    const dir = tempDir('ndf-tree-');
    const stubborn = script(
      dir,
      'stubborn.sh',
      [
        "trap '' TERM",
        `(trap '' TERM; sleep 5; echo late > "${dir}/child-late") &`,
        `echo $! > "${dir}/child.pid"`,
        `echo $$ > "${dir}/parent.pid"`,
        'sleep 5',
        `echo late > "${dir}/parent-late"`,
      ].join('\n'),
    );
    const agent = createCommandAgent({ id: 's', capabilities: ['x'], command: [stubborn], killGraceMs: 300 });
    const abort = new AbortController();
    const outcome = agent.execute(task(abort.signal)).then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    await until(() => pidWritten(path.join(dir, 'parent.pid')), 5_000, 'the script starts');
    const pids = [pidIn(path.join(dir, 'parent.pid')), pidIn(path.join(dir, 'child.pid'))];
    expect(pids.every(alive)).toBe(true);
    const cancelledAt = Date.now();
    abort.abort(new Error('interrupted (SIGINT)'));
    expect(await outcome).toBe(`agent s.command: cancelled (interrupted (SIGINT))`);
    expect(Date.now() - cancelledAt).toBeLessThan(200); // reported at once, not after the grace
    await allGroupsGone();
    expect(Date.now() - cancelledAt).toBeGreaterThanOrEqual(250); // SIGTERM was ignored: SIGKILL after 300 ms
    expect(pids.filter(alive)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(existsSync(path.join(dir, 'parent-late')) || existsSync(path.join(dir, 'child-late'))).toBe(false);
  });

  it('a command that succeeds leaves no background process behind (and its output is read)', async () => {
    const dir = tempDir('ndf-tree-');
    const forks = script(dir, 'forks.sh', `sleep 30 &\necho $! > "${dir}/bg.pid"\necho '{"ok":true}'`);
    const agent = createCommandAgent({ id: 'f', capabilities: ['x'], command: [forks], killGraceMs: 300 });
    const started = Date.now();
    // Before: the background sleep held stdout open, so the task hung for 30 s.
    expect(await agent.execute(task())).toEqual({ ok: true });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(alive(pidIn(path.join(dir, 'bg.pid')))).toBe(false);
  });
});

describe('no command outlives the process that runs it', () => {
  // Both ignore SIGTERM: only a SIGKILL ends them.
  const slow = (dir: string): string =>
    script(
      dir,
      'slow.sh',
      [
        "trap '' TERM",
        `echo $$ > "${dir}/cmd.pid"`,
        `(trap '' TERM; sleep 20; echo late > "${dir}/late") &`,
        `echo $! > "${dir}/child.pid"`,
        'sleep 20',
      ].join('\n'),
    );

  it('process.exit while a command runs: the exit hook kills its group at once', async () => {
    const dir = tempDir('ndf-host-');
    const host = startFixture('commandHost', {
      HOST_COMMAND: JSON.stringify([slow(dir)]),
      HOST_EXIT_AFTER_MS: '800',
      NDF_KILL_GRACE_MS: '10000', // far longer than the test: only the exit hook can kill in time
    });
    await host.waitFor(/started/);
    await until(() => pidWritten(path.join(dir, 'child.pid')), 5_000, 'the command starts');
    const pids = [pidIn(path.join(dir, 'cmd.pid')), pidIn(path.join(dir, 'child.pid'))];
    await new Promise<void>((resolve) => host.child.once('exit', () => resolve()));
    expect(host.child.exitCode).toBe(3);
    await until(() => pids.every((pid) => !alive(pid)), 1_000, 'the command and its child die with the host');
  });

  it('SIGKILL of the host: the watchdog terminates its groups', async () => {
    const dir = tempDir('ndf-host-');
    const host = startFixture('commandHost', {
      HOST_COMMAND: JSON.stringify([slow(dir)]),
      NDF_KILL_GRACE_MS: '300',
    });
    await host.waitFor(/started/);
    await until(() => pidWritten(path.join(dir, 'child.pid')), 5_000, 'the command starts');
    const pids = [pidIn(path.join(dir, 'cmd.pid')), pidIn(path.join(dir, 'child.pid'))];
    expect(pids.every(alive)).toBe(true);
    await host.kill(); // SIGKILL: no hook of the host runs
    await until(
      () => pids.every((pid) => !alive(pid)),
      3_000,
      'the command and its child die after the host',
    );
    expect(existsSync(path.join(dir, 'late'))).toBe(false);
  });
});

describe('the kill grace period', () => {
  it('is NDF_KILL_GRACE_MS when set, 2000 ms when not, and a bad value is named', () => {
    expect(defaultKillGraceMs({})).toBe(2_000);
    expect(defaultKillGraceMs({ NDF_KILL_GRACE_MS: '750' })).toBe(750);
    expect(defaultKillGraceMs({ NDF_KILL_GRACE_MS: '0' })).toBe(0);
    for (const bad of ['soon', '-1', '1.5'])
      expect(() => defaultKillGraceMs({ NDF_KILL_GRACE_MS: bad })).toThrow(
        `Invalid environment variable NDF_KILL_GRACE_MS: expected a whole number of ms (0 or more), got "${bad}"`,
      );
  });
});
