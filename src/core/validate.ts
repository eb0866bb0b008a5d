import type { z } from 'zod';
import { PatternValidationError } from './errors.js';

/** Formats zod issues as `where.path: message; …`. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], where: string): string {
  return issues
    .map((issue) => {
      const path = [where, ...issue.path.map(String)].filter(Boolean).join('.');
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * Parses `value` with `schema`; on failure throws a PatternValidationError whose message
 * names every offending field, prefixed with `where` (e.g. `SequentialDelegationPattern.steps[1]`).
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const first = result.error.issues[0];
  const field = [where, ...(first?.path.map(String) ?? [])].join('.');
  throw new PatternValidationError(
    `Invalid ${where}: ${formatIssues(result.error.issues, where)}`,
    { field },
    result.error,
  );
}
