/**
 * The single-writer lock of a store directory: a `LOCK` file holding the owner's pid, created
 * exclusively. A lock left by a process that no longer exists (killed, crashed) is taken over;
 * one held by a live process makes opening fail. This is what keeps `expectedSeq` checks, made
 * in memory, honest on one machine (pid reuse by an unrelated process would block opening until
 * the stale file is removed by hand).
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
 * Takes the lock file at `path`; resolves with a function that releases it.
 * @throws {RunStoreError} `ND_STORE_UNAVAILABLE` when a live process (this one included) holds it.
 */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
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
    const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new RunStoreError(
        StoreErrorCode.UNAVAILABLE,
        `The run store lock ${path} is held by process ${pid}; one process at a time may open a store`,
        { file: path },
      );
    }
    await unlink(path).catch(() => undefined);
  }
  throw new RunStoreError(StoreErrorCode.UNAVAILABLE, `Could not take the run store lock ${path}`, {
    file: path,
  });
}
