import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { PatternValidationError } from '../core/errors.js';
import { patternSnapshotSchema, type PatternSnapshot } from '../runtime/patterns/snapshot.js';
import { formatIssues, parseWith } from '../core/validate.js';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

/**
 * Largest snapshot read, bytes of JSON (after gunzip): 16 MiB. A gzip bomb (600 KB that
 * inflate to gigabytes) stops at this bound (zlib's `maxOutputLength`) instead of filling memory.
 */
export const MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024;

/**
 * Validates a snapshot before it is written.
 * @returns the schema's output (unknown keys dropped).
 * @throws PatternValidationError naming the field, e.g. `snapshot.confidenceThreshold`.
 * @example
 * ```ts
 * const valid = checkSnapshot(pattern.toSnapshot());
 * ```
 */
export function checkSnapshot(snapshot: unknown): PatternSnapshot {
  return withOwnDomains(parseWith(patternSnapshotSchema, snapshot, 'snapshot'), snapshot as PatternSnapshot);
}

/**
 * The bytes of a snapshot file: two-space-indented JSON (UTF-8), gzipped when `compress`.
 * @throws PatternValidationError naming `config` when the snapshot cannot be JSON (a BigInt, a cycle).
 * @example
 * ```ts
 * await writeFile('flow.json.gz', await encodeSnapshot(snapshot, true));
 * ```
 */
export async function encodeSnapshot(snapshot: PatternSnapshot, compress: boolean): Promise<Buffer> {
  let json: string;
  try {
    json = JSON.stringify(snapshot, null, 2);
  } catch (error) {
    throw new PatternValidationError(
      `Invalid snapshot.config: not JSON (${String(error)})`,
      { field: 'config' },
      error,
    );
  }
  return compress ? gzip(json) : Buffer.from(json, 'utf8');
}

/**
 * Reads a snapshot file's bytes: gunzips when they start with the gzip magic bytes
 * (`1f 8b`, RFC 1952), whatever the file's extension, then parses and validates.
 * @param file - the file's path, used in error messages only.
 * @param maxBytes - largest JSON accepted, bytes, after gunzip (default {@link MAX_SNAPSHOT_BYTES}).
 * @throws PatternValidationError whose message names `file` when the bytes are not gzip or
 *   JSON, are larger than `maxBytes` (decompressed), or fail `patternSnapshotSchema` (`details.field` is then the first bad field).
 * @example
 * ```ts
 * const snapshot = await decodeSnapshot(file, await readFile(file));
 * ```
 */
export async function decodeSnapshot(
  file: string,
  data: Buffer,
  maxBytes = MAX_SNAPSHOT_BYTES,
): Promise<PatternSnapshot> {
  const isGzip = data[0] === 0x1f && data[1] === 0x8b;
  const tooLarge = (): PatternValidationError =>
    new PatternValidationError(
      `Corrupt pattern file ${file}: more than ${maxBytes} bytes of JSON${isGzip ? ' once decompressed' : ''}`,
    );
  if (data.byteLength > maxBytes) throw tooLarge();
  let json: Buffer;
  try {
    json = isGzip ? await gunzip(data, { maxOutputLength: maxBytes }) : data;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
    throw new PatternValidationError(`Corrupt pattern file ${file}: ${String(error)}`, {}, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch (error) {
    throw new PatternValidationError(`Corrupt pattern file ${file}: ${String(error)}`, {}, error);
  }
  const result = patternSnapshotSchema.safeParse(value);
  if (result.success) return withOwnDomains(result.data, value as PatternSnapshot);
  const field = result.error.issues[0]?.path.map(String).join('.');
  const message = `Corrupt pattern file ${file}: ${formatIssues(result.error.issues, 'snapshot')}`;
  throw new PatternValidationError(message, field ? { field } : {}, result.error);
}

/**
 * zod's record parser assigns keys, so a domain named `__proto__` would be lost (the
 * assignment sets the prototype). Rebuilds `byDomain` from the validated input as own properties.
 */
function withOwnDomains(parsed: PatternSnapshot, input: PatternSnapshot): PatternSnapshot {
  const entries = Object.entries(input.stats.byDomain).map(([domain, { successes, failures }]) => [
    domain,
    { successes, failures },
  ]);
  const byDomain = Object.fromEntries(entries) as PatternSnapshot['stats']['byDomain'];
  return { ...parsed, stats: { ...parsed.stats, byDomain } };
}
