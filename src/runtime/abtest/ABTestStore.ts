import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PatternValidationError } from '../../core/errors.js';
import { parseWith } from '../../core/validate.js';
import { patternFileStem } from '../../storage/patternFileName.js';
import { abTestRecordSchema, type ABTestRecord } from './abTestSchema.js';

const RECORD_FILE = /^[^.]+\.json$/;

/**
 * The A/B tests of a {@link PatternStorage}: one JSON file per test, `<dir>/<stem>.json`
 * (the stem from `patternFileStem`, so any test name is a safe file name), written atomically
 * (write-file-atomic: temp file, fsync, rename). Get it from `PatternStorage.abTests()`.
 * Several processes writing one directory are not coordinated.
 *
 * @example
 * ```ts
 * const store = new PatternStorage('.nd/patterns').abTests();
 * await store.write(record);
 * const all = await store.list();
 * ```
 */
export class ABTestStore {
  /** @param dir - the directory of the test files; created on the first write */
  constructor(readonly dir: string) {}

  /**
   * Validates and writes a test, replacing its previous version.
   * @throws PatternValidationError naming the field when the record is invalid.
   */
  async write(record: ABTestRecord): Promise<void> {
    const valid = parseWith(abTestRecordSchema, record, 'abTest');
    await mkdir(this.dir, { recursive: true });
    // loaded on the first write, so that importing the library does not load it
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(this.file(valid.definition.name), `${JSON.stringify(valid, null, 2)}\n`);
  }

  /**
   * Every stored test, sorted by name.
   * @throws PatternValidationError naming the file and the field when a file is not a valid test.
   */
  async list(): Promise<ABTestRecord[]> {
    const files = (await this.entries()).filter((f) => RECORD_FILE.test(f));
    const records = await Promise.all(files.map((f) => this.read(f)));
    return records.sort((a, b) => (a.definition.name < b.definition.name ? -1 : 1));
  }

  private file(name: string): string {
    return join(this.dir, `${patternFileStem(name)}.json`);
  }

  /** Reads `<dir>/<entry>`, checking that it holds the test its stem names. */
  private async read(entry: string): Promise<ABTestRecord> {
    const file = join(this.dir, entry);
    const text = await readFile(file, 'utf8');
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new PatternValidationError(`Corrupt A/B test file ${file}: not JSON`, { field: file }, error);
    }
    const record = parseWith(abTestRecordSchema, data, file);
    if (`${patternFileStem(record.definition.name)}.json` === entry) return record;
    throw new PatternValidationError(
      `Corrupt A/B test file ${file}: holds test '${record.definition.name}'`,
      { field: file },
    );
  }

  private async entries(): Promise<string[]> {
    try {
      return await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
}
