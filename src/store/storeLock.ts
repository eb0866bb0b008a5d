/**
 * The single-writer lock of one run in a store directory: a `<runId>.lock` file holding the
 * owner's pid, created exclusively. A lock left by a process that no longer exists (killed,
 * crashed) is taken over; one held by a live process makes taking it fail. This is what keeps
 * `expectedSeq` checks, made in memory, honest between processes on one machine, while several
 * processes (two `ndf run` in one project) use the same store for different runs. Pid reuse by an
 * unrelated process would block the run until the stale file is removed by hand.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { RunStoreError, StoreErrorCode } from './errors.js';

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * The pid of the live process other than this one that holds the lock at `path`, if any.
 */
export async function lockHolder(path: string): Promise<number | undefined> {
  const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
  return Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid) ? pid : undefined;
}

/**
 * Takes the lock file at `path` for `what` (named in errors); resolves with a function that
 * releases it.
 * @throws {RunStoreError} `ND_STORE_UNAVAILABLE` when another live process holds it.
 */
export async function acquireLock(path: string, what: string): Promise<() => Promise<void>> {
  for (let tries = 0; tries < 3; tries += 1) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await lockHolder(path);
    if (holder !== undefined) {
      throw new RunStoreError(
        StoreErrorCode.UNAVAILABLE,
        `${what} is held by process ${holder} (lock ${path}); one process at a time may write a run`,
        { file: path, pid: holder },
      );
    }
    await unlink(path).catch(() => undefined);
  }
  throw new RunStoreError(StoreErrorCode.UNAVAILABLE, `Could not take the lock ${path} of ${what}`, {
    file: path,
  });
}
