/**
 * The on-disk format of a journal file: one record per line,
 * `<crc32 of the JSON, 8 lowercase hex digits> <entry as JSON>\n`. JSON never contains a raw
 * newline, so the newline frames records; the CRC-32 (zlib's, ISO-HDLC polynomial) catches
 * flipped bits. Bytes after the last newline are an incomplete record left by a crash
 * mid-write: decoding drops them. Any complete record that fails its checksum, its schema or the
 * journal's order is corruption, reported with the file and the record's byte offset.
 */
import { crc32 } from 'node:zlib';
import { RunStoreError, StoreErrorCode } from './errors.js';
import { journalEntrySchema, type JournalEntry } from './journal.js';
import { applyEntry, type RunState } from './summary.js';

const NEWLINE = 0x0a;
const SPACE = 0x20;

/** One entry as a record (a line), with the JSON text (for callers that want a copy). */
export function encodeRecord(entry: JournalEntry): { record: Buffer; json: string } {
  const json = JSON.stringify(entry);
  const body = Buffer.from(json, 'utf8');
  const head = Buffer.from(`${crc32(body).toString(16).padStart(8, '0')} `, 'latin1');
  return { record: Buffer.concat([head, body, Buffer.from('\n')]), json };
}

/** What {@link decodeJournal} found in a journal file. */
export interface DecodedJournal {
  readonly entries: JournalEntry[];
  /** The run's state after its last whole record (undefined for no record). */
  readonly state: RunState | undefined;
  /** Bytes of whole records; the file should be truncated to this length before appending. */
  readonly validBytes: number;
  /** Bytes of an incomplete last record, dropped (0 when the file ends with a whole record). */
  readonly droppedBytes: number;
}

/**
 * Decodes the journal of run `runId` from `bytes` (the content of `file`).
 * @throws {RunStoreError} `ND_STORE_CORRUPT` naming `file` and the byte offset of the first
 *   whole record that is bad (checksum, JSON, schema, run id or seq order).
 */
export function decodeJournal(bytes: Buffer, file: string, runId: string): DecodedJournal {
  const entries: JournalEntry[] = [];
  let state: RunState | undefined;
  let pos = 0;
  while (pos < bytes.length) {
    const end = bytes.indexOf(NEWLINE, pos);
    if (end === -1) break;
    const corrupt = (why: string, cause?: unknown) =>
      new RunStoreError(
        StoreErrorCode.CORRUPT,
        `Corrupt journal ${file} at byte offset ${pos}: ${why}`,
        { file, offset: pos, runId },
        cause,
      );
    if (end - pos < 10 || bytes[pos + 8] !== SPACE) throw corrupt('not a "<crc32> <json>" record');
    const expected = Number.parseInt(bytes.toString('latin1', pos, pos + 8), 16);
    const body = bytes.subarray(pos + 9, end);
    if (!/^[0-9a-f]{8}$/.test(bytes.toString('latin1', pos, pos + 8)) || crc32(body) !== expected) {
      throw corrupt('checksum mismatch');
    }
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw corrupt('invalid JSON', error);
    }
    const parsed = journalEntrySchema.safeParse(value);
    if (!parsed.success)
      throw corrupt(`not a journal entry (${parsed.error.issues[0]?.message ?? 'schema'})`);
    const entry = parsed.data;
    if (entry.runId !== runId) throw corrupt(`entry of run ${entry.runId} in the journal of run ${runId}`);
    try {
      state = applyEntry(state, entry);
    } catch (error) {
      throw corrupt(error instanceof Error ? error.message : String(error), error);
    }
    entries.push(entry);
    pos = end + 1;
  }
  return { entries, state, validBytes: pos, droppedBytes: bytes.length - pos };
}
