import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { parseDurationText } from '../core/duration.js';
import { UsageError } from './exit.js';

/**
 * Parses `--input`: inline JSON (`'{"failAt":"write_report"}'`) or `@file` (JSON or YAML).
 * @throws UsageError when the text does not parse or the file cannot be read
 */
export function parseInputOption(raw: string): unknown {
  if (raw.startsWith('@')) {
    const file = raw.slice(1);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new UsageError(
        `--input: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    try {
      return parse(text) as unknown;
    } catch (error) {
      throw new UsageError(
        `--input: ${file} is not JSON or YAML: ${(error as Error).message.split('\n')[0] ?? ''}`,
      );
    }
  }
  try {
    return JSON.parse(raw) as unknown;
  } catch (error) {
    throw new UsageError(`--input: not valid JSON (${(error as Error).message}); use @file to read a file`);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The run input: `--input` merged over the file's `run.input` when both are objects, else whichever is given. */
export function mergeRunInput(fromFile: unknown, fromOption: unknown): unknown {
  if (fromOption === undefined) return fromFile;
  if (isPlainObject(fromFile) && isPlainObject(fromOption)) return { ...fromFile, ...fromOption };
  return fromOption;
}

/**
 * Parses a duration option in ms (`--timeout 5000`): a whole number from 1 to 2^31-1.
 * @throws UsageError naming the option, the value and the bound
 */
export function parseDurationOption(option: string, raw: string): number {
  const parsed = parseDurationText(option, raw);
  if (!parsed.ok) throw new UsageError(parsed.message);
  return parsed.ms;
}
