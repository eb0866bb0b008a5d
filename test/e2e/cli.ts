import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The launcher the e2e tests run: a fresh build of the CLI (test/e2e/globalSetup.ts), so each
 * call starts in ~0.3 s instead of compiling src through tsx.
 */
export const NDF_BIN = inject('ndfBin');
/**
 * The run store of the e2e runs (`NDF_STORE`), inside the build directory the global setup
 * removes at the end: `ndf run` journals every run, and the checkout's `.nd/` stays untouched.
 */
export const E2E_STORE = path.join(path.dirname(path.dirname(NDF_BIN)), 'store');
/** The checkout's launcher (runs src through tsx), for what only a checkout shows. */
export const CHECKOUT_BIN = `${ROOT}/bin/ndf.js`;

/** What one `ndf` invocation produced. */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link ndf} and {@link startNdf}. */
export interface NdfOptions {
  timeoutMs?: number;
  cwd?: string;
  /** Added to the environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** The launcher to run; default {@link NDF_BIN}. */
  bin?: string;
}

function spawnNdf(args: readonly string[], options: NdfOptions): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [options.bin ?? NDF_BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: Object.fromEntries(
      Object.entries({
        ...process.env,
        NO_COLOR: '1',
        FORCE_COLOR: '0',
        NDF_STORE: E2E_STORE,
        ...options.env,
      }).filter(([, value]) => value !== undefined),
    ),
    stdio: 'pipe',
  });
}

/** Runs `ndf …args` from the repository root, as a user would, without colours. */
export function ndf(args: readonly string[], options: NdfOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnNdf(args, options);
    child.stdin.end();
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running `ndf` process (an agent, a resolver) started by a test. */
export interface NdfProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves once stdout matches `pattern`; rejects after `timeoutMs` or when the process exits first. */
  printed(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code. */
  readonly exited: Promise<number | null>;
  output(): string;
  errors(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves on exit. */
  stop(): Promise<void>;
}

/** Starts `ndf …args` in the background. */
export function startNdf(args: readonly string[], options: NdfOptions = {}): NdfProcess {
  const child = spawnNdf(args, options);
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const printed = (pattern: RegExp, timeoutMs = 20_000): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const fail = (why: string) => {
        clearTimeout(timer);
        reject(
          new Error(`ndf ${args[0] ?? ''}: ${why} (looked for ${pattern}); stdout: ${out}; stderr: ${err}`),
        );
      };
      const timer = setTimeout(() => fail(`nothing within ${timeoutMs} ms`), timeoutMs);
      const check = () => {
        if (!pattern.test(out)) return;
        clearTimeout(timer);
        resolve();
      };
      child.stdout.on('data', check);
      void exited.then((code) => fail(`exited with ${code}`));
      check();
    });
  return {
    child,
    printed,
    exited,
    output: () => out,
    errors: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(kill);
    },
  };
}

/** Parses a JSONL text: one object per non-empty line (throws on a malformed line). */
export function parseJsonl(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
