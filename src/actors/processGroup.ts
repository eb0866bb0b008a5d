import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { z } from 'zod';
import { PatternValidationError } from '../core/errors.js';

/**
 * Process groups of the commands the runtime starts, so that no child of a run outlives it.
 *
 * Each command starts in its own process group (`detached`, i.e. `setsid`), whose id is the
 * child's pid; it is signalled as a group (`kill(-pgid)`), so a wrapper script's own children
 * (`sh -c 'sleep 30; …'`) die with it. Three nets catch what is left:
 * - when the leader exits, what remains of its group is terminated (SIGTERM, SIGKILL after the
 *   grace period): a command may not leave background processes behind;
 * - when this process exits (`process.exit`, a second Ctrl-C), every live group gets SIGKILL
 *   synchronously in the `exit` hook, so a pending SIGKILL follow-up is never lost;
 * - when this process is killed outright (SIGKILL, OOM killer: no hook runs), a small watchdog
 *   process (a `node -e` script in its own session, started with the first command) notices
 *   that its stdin pipe from us closed and terminates the groups we told it about (SIGTERM,
 *   SIGKILL after the grace period). Node has no PR_SET_PDEATHSIG, and a child cannot be
 *   made to watch its own stdin, hence the watchdog.
 * A descendant that starts its own session (`setsid`, a daemon) leaves the group and is out of
 * reach; so are processes on Windows, where groups are not signalled (only the child is).
 */

const posix = process.platform !== 'win32';
const POLL_MS = 25;

/**
 * The default grace period between SIGTERM and SIGKILL, ms (env `NDF_KILL_GRACE_MS`, else 2000).
 * @throws PatternValidationError when `NDF_KILL_GRACE_MS` is not a whole number ≥ 0
 */
export function defaultKillGraceMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.NDF_KILL_GRACE_MS;
  if (raw === undefined || raw === '') return 2_000;
  const grace = z.coerce.number().int().min(0).safeParse(raw);
  if (grace.success) return grace.data;
  throw new PatternValidationError(
    `Invalid environment variable NDF_KILL_GRACE_MS: expected a whole number of ms (0 or more), got "${raw}"`,
    { field: 'NDF_KILL_GRACE_MS' },
  );
}

interface Group {
  /** Resolves once no process of the group is left (or it is beyond our reach). */
  readonly gone: Promise<void>;
  markGone(): void;
  /** Set once SIGTERM was sent: SIGKILL follows at this epoch ms. */
  killAt?: number;
  killTimer?: NodeJS.Timeout;
}

const groups = new Map<number, Group>();
let exitHookInstalled = false;
let watchdog: ChildProcess | undefined;

/**
 * Spawns `file args` in a new process group, registered until the group is gone.
 * `graceMs` is the delay between SIGTERM and SIGKILL when the group has to be terminated.
 */
export function spawnInGroup(
  file: string,
  args: readonly string[],
  options: SpawnOptions,
  graceMs: number,
): ChildProcess {
  const child = spawn(file, args, { ...options, detached: posix });
  const pid = child.pid;
  if (pid === undefined) return child; // failed to start: 'error' follows
  let markGone = (): void => undefined;
  const gone = new Promise<void>((resolve) => (markGone = resolve));
  groups.set(pid, { gone, markGone });
  installExitHook();
  tellWatchdog(`+${pid}`, graceMs);
  child.once('exit', () => {
    // The leader is gone; its group may not be (background children, a SIGTERM-ignoring grandchild).
    if (groupAlive(pid)) terminateGroup(pid, graceMs);
    void untilGroupGone(pid, graceMs).then(() => forget(pid));
  });
  return child;
}

/**
 * Sends SIGTERM to the group led by `pid`, then SIGKILL after `graceMs` (also sent, at once,
 * if this process exits first). Idempotent: a second call does not restart the grace period.
 */
export function terminateGroup(pid: number, graceMs: number): void {
  const group = groups.get(pid);
  if (group?.killAt !== undefined) return;
  signalGroup(pid, 'SIGTERM');
  if (!group) return;
  group.killAt = Date.now() + graceMs;
  group.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), graceMs);
  group.killTimer.unref();
}

/** SIGKILL to every live group, synchronously (for an exit that cannot wait). */
export function killAllGroups(): void {
  for (const pid of groups.keys()) signalGroup(pid, 'SIGKILL');
}

/** SIGTERM to every live group, SIGKILL after `graceMs`. */
export function terminateAllGroups(graceMs: number): void {
  for (const pid of groups.keys()) terminateGroup(pid, graceMs);
}

/** Resolves once every group started so far is gone. */
export async function allGroupsGone(): Promise<void> {
  while (groups.size > 0) await Promise.all([...groups.values()].map((g) => g.gone));
}

/** How many groups are live (started, not yet seen gone). */
export function liveGroupCount(): number {
  return groups.size;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(posix ? -pid : pid, signal);
  } catch {
    // ESRCH: already gone; EPERM: not ours any more.
  }
}

function groupAlive(pid: number): boolean {
  if (!posix) return false;
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Polls until no process of the group is left. Bounded: a group whose members are zombies no
 * one reaps (a container whose PID 1 does not reap) is dead all the same, so the wait ends
 * one grace period plus 1 s after the SIGKILL.
 */
async function untilGroupGone(pid: number, graceMs: number): Promise<void> {
  while (groupAlive(pid)) {
    const group = groups.get(pid);
    const killAt = group?.killAt ?? Date.now() + graceMs;
    if (Date.now() > killAt + 1_000) return;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function forget(pid: number): void {
  const group = groups.get(pid);
  if (!group) return;
  if (group.killTimer) clearTimeout(group.killTimer);
  groups.delete(pid);
  tellWatchdog(`-${pid}`);
  group.markGone();
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllGroups);
}

/**
 * The watchdog: reads `+pid` / `-pid` lines; when its stdin ends (we exited, however), it
 * terminates the groups still listed: SIGTERM, then SIGKILL after the grace period (argv[1]).
 */
const WATCHDOG_SOURCE = `
const grace = Number(process.argv[1]);
const pids = new Set();
let rest = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (rest + chunk).split('\\n');
  rest = lines.pop();
  for (const line of lines) {
    const pid = Number(line.slice(1));
    if (line[0] === '+') pids.add(pid); else pids.delete(pid);
  }
});
const kill = (signal) => { for (const pid of pids) { try { process.kill(-pid, signal); } catch {} } };
process.stdin.on('close', () => {
  if (pids.size === 0) return;
  kill('SIGTERM');
  setTimeout(() => kill('SIGKILL'), grace);
});
`;

function tellWatchdog(line: string, graceMs?: number): void {
  if (!posix) return;
  if (!watchdog && graceMs !== undefined) watchdog = startWatchdog(graceMs);
  const stdin = watchdog?.stdin;
  if (stdin?.writable) stdin.write(`${line}\n`);
}

function startWatchdog(graceMs: number): ChildProcess | undefined {
  try {
    const child = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(graceMs)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: { PATH: process.env.PATH ?? '' },
    });
    child.on('error', () => (watchdog = undefined));
    child.stdin?.on('error', () => undefined);
    // Neither the watchdog nor its pipe keeps this process alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } catch {
    return undefined;
  }
}
