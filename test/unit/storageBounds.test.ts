import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { isPatternValidationError } from '../../src/core/errors.js';
import { PatternStorage } from '../../src/runtime/PatternStorage.js';
import { decodeSnapshot } from '../../src/storage/snapshotCodec.js';
import { tempDir } from '../helpers/tempDir.js';
import { manualClock, patternOf, snapshot } from './storageFixtures.js';

/** A gzip of `bytes` zeros: about 1/1000 of their size. */
const bomb = (bytes: number): Buffer => gzipSync(Buffer.alloc(bytes), { level: 9 });

function recorder(): {
  warn: (obj: Record<string, unknown>, msg: string) => void;
  lines: [Record<string, unknown>, string][];
} {
  const lines: [Record<string, unknown>, string][] = [];
  return { lines, warn: (obj, msg) => void lines.push([obj, msg]) };
}

describe('hostile snapshot files', () => {
  it('stops inflating a gzip bomb at the bound, naming the file', async () => {
    const data = bomb(4 * 1024 * 1024);
    expect(data.byteLength).toBeLessThan(10_000);
    let error: unknown;
    try {
      await decodeSnapshot('x.json.gz', data, 1024 * 1024);
    } catch (e) {
      error = e;
    }
    expect(isPatternValidationError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'Corrupt pattern file x.json.gz: more than 1048576 bytes of JSON once decompressed',
    );
  });

  it('refuses an uncompressed file over the bound', async () => {
    await expect(decodeSnapshot('x.json', Buffer.alloc(2048, 0x20), 1024)).rejects.toThrow(
      'Corrupt pattern file x.json: more than 1024 bytes of JSON',
    );
  });

  it('listSnapshots skips a bomb and a corrupt file with a warning each and returns the others', async () => {
    const dir = tempDir('nd-bounds-');
    const log = recorder();
    const st = new PatternStorage({ storagePath: dir, clock: manualClock(), logger: log });
    await st.storePattern(patternOf(snapshot({ name: 'good' })));
    await mkdir(join(dir, 'patterns'), { recursive: true });
    // 64 MiB of zeros: over the 16 MiB bound once decompressed
    await writeFile(join(dir, 'patterns', 'bomb.json.gz'), bomb(64 * 1024 * 1024));
    await writeFile(join(dir, 'patterns', 'broken.json'), '{ not json');
    const listed = await st.listSnapshots();
    expect(listed.map((s) => s.name)).toEqual(['good']);
    const skipped = log.lines.map(([obj, msg]) => [obj['stem'], msg, String(obj['err'])] as const);
    expect(skipped).toHaveLength(2);
    expect(skipped).toEqual(
      expect.arrayContaining([
        [
          'bomb',
          'skipped a pattern file that does not load',
          expect.stringMatching(/bomb\.json\.gz: more than 16777216 bytes/),
        ],
        ['broken', 'skipped a pattern file that does not load', expect.stringMatching(/broken\.json/)],
      ]),
    );
  });
});
