import { constants } from 'node:os';
import pc from 'picocolors';
import { killAllGroups } from '../actors/processGroup.js';

/** The signals that stop `ndf run` and `ndf agent`: Ctrl-C, `docker stop` / systemd / Kubernetes, a closed terminal. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** The conventional exit code of a process stopped by `signal`: 128 + its number (SIGINT 130, SIGTERM 143, SIGHUP 129). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}

/** What {@link onStopSignals} returns. */
export interface StopSignals {
  /** The first stop signal received, if any. */
  readonly received: NodeJS.Signals | undefined;
  /** Resolves with the first stop signal. */
  readonly first: Promise<NodeJS.Signals>;
  /** Removes the handlers (the default actions apply again). */
  dispose(): void;
}

/**
 * Handles {@link STOP_SIGNALS}: the first one calls `onFirst` (which starts an orderly stop);
 * a second one exits at once with {@link signalExitCode}, after a SIGKILL to every command
 * process group still alive (the `exit` hook of processGroup.ts would send it too).
 * `what` names what the first signal stops, for the line printed on stderr.
 */
export function onStopSignals(what: string, onFirst: (signal: NodeJS.Signals) => void): StopSignals {
  let received: NodeJS.Signals | undefined;
  let resolveFirst: (signal: NodeJS.Signals) => void = () => undefined;
  const first = new Promise<NodeJS.Signals>((resolve) => (resolveFirst = resolve));
  const handler = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      killAllGroups();
      process.stderr.write(`${pc.red('✖')} ${signal} again: stopping at once\n`);
      process.exit(signalExitCode(signal));
    }
    received = signal;
    process.stderr.write(`${pc.yellow('!')} ${signal}: ${what}; ${signal} again stops at once\n`);
    onFirst(signal);
    resolveFirst(signal);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, handler);
  return {
    get received() {
      return received;
    },
    first,
    dispose: () => {
      for (const signal of STOP_SIGNALS) process.removeListener(signal, handler);
    },
  };
}
