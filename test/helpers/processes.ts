import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Alive: listed by ps and not a zombie (a container's PID 1 may not reap orphans). */
export function alive(pid: number): boolean {
  try {
    const stat = execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    return stat !== '' && !stat.startsWith('Z');
  } catch {
    return false; // ps exits 1 when no such process
  }
}

/** Polls `check` every 20 ms; throws naming `what` when it is still false after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * True once `file` holds a whole line (a script's `echo $$ > file` is done): the shell creates
 * the file before it writes the pid, so existence alone races with the write.
 */
export function pidWritten(file: string): boolean {
  try {
    return readFileSync(file, 'utf8').endsWith('\n');
  } catch {
    return false;
  }
}
