import { createRequire } from 'node:module';
import type * as YamlModule from 'yaml';
import { z } from 'zod';
import type { Outcome } from '../learning/outcomes.js';
import { successRate } from '../learning/outcomes.js';
import type { PatternSnapshot } from '../runtime/patterns/snapshot.js';
import { parseWith } from '../core/validate.js';

type Yaml = typeof YamlModule;
let yaml: Yaml | undefined;
/**
 * The `yaml` package, loaded on the first YAML export (synchronously, through its CommonJS
 * build) so that importing the library does not load it.
 */
function toYaml(value: unknown): string {
  yaml ??= createRequire(import.meta.url)('yaml') as Yaml;
  return yaml.stringify(value);
}

/** The formats {@link exportLearningData} writes. */
export const EXPORT_FORMATS = ['json', 'csv', 'yaml'] as const;
/** `'json' | 'csv' | 'yaml'`. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** One outcome as exported: `at` is an ISO 8601 UTC time, `durationMs` in ms. */
export interface ExportedOutcome {
  readonly at: string;
  readonly success: boolean;
  readonly durationMs: number;
  readonly domain?: string;
}

/** A pattern's learning data in export form (times ISO 8601 UTC, rates 0..1, durations ms). */
export interface LearningData {
  readonly name: string;
  readonly type: string;
  readonly createdAt: string;
  readonly lastUsedAt: string;
  /** 0..1. */
  readonly confidenceThreshold: number;
  readonly learningEnabled: boolean;
  readonly executions: number;
  readonly successes: number;
  readonly failures: number;
  /** successes / executions, 0..1 (0 when never executed). */
  readonly successRate: number;
  readonly totalDurationMs: number;
  readonly byDomain: Readonly<Record<string, { successes: number; failures: number }>>;
  /** The retained outcomes, oldest first. */
  readonly history: readonly ExportedOutcome[];
}

const formatSchema = z.enum(EXPORT_FORMATS);

/**
 * Checks an export format given at run time.
 * @throws PatternValidationError with `details.field === 'format'` for anything but json, csv, yaml.
 * @example
 * ```ts
 * parseExportFormat('yaml'); // 'yaml'
 * ```
 */
export function parseExportFormat(format: unknown): ExportFormat {
  return parseWith(formatSchema, format, 'format');
}

/**
 * ISO 8601 UTC for an epoch-ms time; the number as a string when no Date can hold it
 * (beyond ±8.64e15 ms), so an export never throws on a valid snapshot.
 */
function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString();
}

/**
 * The learning data of a snapshot as a plain object (see {@link LearningData}).
 * @example
 * ```ts
 * learningDataOf(snapshot).successRate; // 0.8
 * ```
 */
export function learningDataOf(snapshot: PatternSnapshot): LearningData {
  const { stats } = snapshot;
  return {
    name: snapshot.name,
    type: snapshot.type,
    createdAt: isoTime(snapshot.createdAt),
    lastUsedAt: isoTime(snapshot.lastUsedAt),
    confidenceThreshold: snapshot.confidenceThreshold,
    learningEnabled: snapshot.learningEnabled,
    executions: stats.executions,
    successes: stats.successes,
    failures: stats.failures,
    successRate: successRate(stats),
    totalDurationMs: stats.totalDurationMs,
    byDomain: stats.byDomain,
    history: stats.history.map(exportOutcome),
  };
}

function exportOutcome(outcome: Outcome): ExportedOutcome {
  const base = { at: isoTime(outcome.at), success: outcome.success, durationMs: outcome.durationMs };
  return outcome.domain === undefined ? base : { ...base, domain: outcome.domain };
}

/**
 * Quotes one CSV field as RFC 4180 says: a field holding `,`, `"`, CR, LF, or leading or
 * trailing space is wrapped in double quotes, inner quotes doubled. An empty string is
 * written `""` so that it differs from an absent value (an empty field).
 * @example
 * ```ts
 * csvField('say "hi", then go'); // '"say ""hi"", then go"'
 * csvField(undefined); // ''
 * ```
 */
export function csvField(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return text === '' || /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Header `at,success,durationMs,domain`, then one CRLF-terminated row per outcome in history. */
function toCsv(data: LearningData): string {
  const rows = [['at', 'success', 'durationMs', 'domain'].join(',')];
  for (const o of data.history) rows.push([o.at, o.success, o.durationMs, o.domain].map(csvField).join(','));
  return rows.map((row) => `${row}\r\n`).join('');
}

/**
 * Writes a snapshot's learning data (see {@link LearningData}) as text:
 * - `json`: the object, pretty-printed with two-space indentation;
 * - `yaml`: the same object as YAML 1.2;
 * - `csv`: the outcome history only, RFC 4180 (CRLF line ends), header
 *   `at,success,durationMs,domain`: ISO time, `true`/`false`, ms, domain or empty.
 *
 * Pure: the same snapshot and format always give the same text.
 * @param format - `'json'` (default), `'csv'` or `'yaml'`.
 * @throws PatternValidationError with `details.field === 'format'` for any other format.
 * @example
 * ```ts
 * const csv = exportLearningData(pattern.toSnapshot(), 'csv');
 * // at,success,durationMs,domain
 * // 2026-01-01T00:00:00.000Z,true,120,web
 * ```
 */
export function exportLearningData(snapshot: PatternSnapshot, format: ExportFormat = 'json'): string {
  const checked = parseExportFormat(format);
  const data = learningDataOf(snapshot);
  if (checked === 'csv') return toCsv(data);
  if (checked === 'yaml') return toYaml(data);
  return `${JSON.stringify(data, null, 2)}\n`;
}
