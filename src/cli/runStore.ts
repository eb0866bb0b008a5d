import { resolve } from 'node:path';
import { FileRunStore } from '../store/FileRunStore.js';
import { UsageError } from './exit.js';

/** The directory of the CLI's run store: `--store`, else `NDF_STORE`, else `.nd` in the working directory. */
export function storeDir(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const dir = option ?? env['NDF_STORE'] ?? '.nd';
  if (dir.trim() === '') throw new UsageError('--store (or NDF_STORE) must name a directory');
  return resolve(dir);
}

/**
 * Opens the CLI's run store (the embedded file journal).
 * @throws UsageError naming the directory when it cannot be created or opened
 */
export async function openRunStore(option: string | undefined): Promise<FileRunStore> {
  const dir = storeDir(option);
  try {
    return await FileRunStore.open({ dir, fsync: process.env['NDF_STORE_FSYNC'] === '1' });
  } catch (error) {
    throw new UsageError(`cannot open the run store ${dir}: ${(error as Error).message}`);
  }
}
