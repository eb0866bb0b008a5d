import { spawn, type ChildProcess } from 'node:child_process';

/** A command started in its own process group, so that it and anything it starts can be signalled at once. */
export interface GroupProcess {
  readonly child: ChildProcess;
  /** Everything it printed on stdout so far. */
  output(): string;
  /** Resolves once stdout matches `pattern`; rejects after `timeoutMs` or when it exits first. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Its exit code, or the signal that ended it. */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** Sends `signal` to the whole group (nothing when it is gone). */
  signal(signal: NodeJS.Signals): void;
  /** True while a process of the group is alive. */
  alive(): boolean;
}

/** Starts `command args` as the leader of a new process group (POSIX `setsid`). */
export function startGroup(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string> },
): GroupProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const pgid = child.pid!;
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const alive = () => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false; // ESRCH: no process left in the group
    }
  };
  return {
    child,
    output: () => out,
    exited,
    alive,
    signal: (signal) => {
      if (alive()) process.kill(-pgid, signal);
    },
    printed: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const done = (error?: Error) => {
          clearTimeout(timer);
          child.stdout?.off('data', check);
          if (error) reject(error);
          else resolve();
        };
        const fail = (why: string) =>
          done(
            new Error(
              `${command} ${args.join(' ')}: ${why} (looked for ${pattern}); stdout: ${out}; stderr: ${err}`,
            ),
          );
        const timer = setTimeout(() => fail(`nothing within ${timeoutMs} ms`), timeoutMs);
        const check = () => {
          if (pattern.test(out)) done();
        };
        child.stdout?.on('data', check);
        void exited.then((code) => fail(`exited (${code})`));
        check();
      }),
  };
}
