import { z } from 'zod';
import { redactText } from '../../../core/redact.js';
import { ExitCode, UsageError } from '../../exit.js';

/**
 * What may go wrong before a remote command serves or answers (the server is down, the URL or
 * an option is bad) is bad input: one line `ndf <command>: <why>` on stderr and exit code 2,
 * never a stack trace.
 */
export function remoteAction<O>(command: string, action: (options: O) => Promise<void>) {
  return async (options: O): Promise<void> => {
    try {
      await action(options);
    } catch (error) {
      const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
      process.stderr.write(`ndf ${command}: ${redactText(why ?? '')}\n`); // no credentials of a URL
      process.exitCode = ExitCode.BAD_INPUT;
    }
  };
}

/** A positive whole number of ms (or slots), from an option's text. */
const positiveInt = z.coerce.number().int().positive();

/**
 * Parses an option that must be a positive integer.
 * @throws UsageError `--<name>: expected a positive whole number, got "<raw>"`
 */
export function positiveIntOption(name: string, raw: string): number {
  const parsed = positiveInt.safeParse(raw.trim() === '' ? Number.NaN : raw);
  if (!parsed.success) throw new UsageError(`--${name}: expected a positive whole number, got "${raw}"`);
  return parsed.data;
}

/** Agent and service names: letters, digits, - and _ (they become NATS subject tokens). */
const nameSchema = z.string().regex(/^[A-Za-z0-9_-]+$/);

/**
 * Checks `--name`.
 * @throws UsageError naming the allowed characters
 */
export function nameOption(raw: string): string {
  if (!nameSchema.safeParse(raw).success)
    throw new UsageError(`--name: "${raw}" may hold only letters, digits, - and _`);
  return raw;
}

/**
 * Connects with `connect`, turning any failure (refused, bad URL, bad credentials) into one line
 * naming the URL.
 * @throws UsageError `--nats: cannot connect to <url>: <why>`
 */
export async function connectOrExplain<T>(url: string, connect: () => Promise<T>): Promise<T> {
  try {
    return await connect();
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new UsageError(`--nats: cannot connect to ${url}: ${why}`);
  }
}
