import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PatternValidationError } from '../../src/core/errors.js';
import {
  csvField,
  exportLearningData,
  learningDataOf,
  parseExportFormat,
  type ExportFormat,
} from '../../src/storage/exportLearningData.js';
import { snapshot, T0 } from './storageFixtures.js';

/** A small RFC 4180 reader: rows of fields, CRLF or LF line ends, `""` inside quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i]!;
    if (quoted && ch === '"' && text[i + 1] === '"') {
      field += '"';
      i += 1;
    } else if (ch === '"') {
      quoted = !quoted;
    } else if (quoted || (ch !== ',' && ch !== '\n' && ch !== '\r')) {
      field += ch;
    } else {
      row.push(field);
      field = '';
      if (ch === ',') continue;
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      rows.push(row);
      row = [];
    }
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

const expected = {
  name: 'flow',
  type: 'SequentialDelegationPattern',
  createdAt: '2026-01-01T00:00:00.000Z',
  lastUsedAt: '2026-01-01T00:00:02.000Z',
  confidenceThreshold: 0.7,
  learningEnabled: true,
  executions: 3,
  successes: 2,
  failures: 1,
  successRate: 2 / 3,
  totalDurationMs: 450,
  byDomain: { web: { successes: 2, failures: 1 } },
  history: [
    { at: '2026-01-01T00:00:00.000Z', success: true, durationMs: 100, domain: 'web' },
    { at: '2026-01-01T00:00:01.000Z', success: false, durationMs: 200, domain: 'web' },
    { at: '2026-01-01T00:00:02.000Z', success: true, durationMs: 150, domain: 'web' },
  ],
};

describe('exportLearningData', () => {
  it('json (the default) is pretty JSON of the learning data', () => {
    const text = exportLearningData(snapshot());
    expect(JSON.parse(text)).toEqual(expected);
    expect(text).toContain('\n  "name": "flow",\n');
    expect(exportLearningData(snapshot(), 'json')).toBe(text);
  });

  it('yaml parses back to the same data', () => {
    expect(parseYaml(exportLearningData(snapshot(), 'yaml'))).toEqual(expected);
  });

  it('csv has a header and one CRLF row per outcome', () => {
    const text = exportLearningData(snapshot(), 'csv');
    expect(text.split('\r\n')).toHaveLength(5);
    expect(parseCsv(text)).toEqual([
      ['at', 'success', 'durationMs', 'domain'],
      ['2026-01-01T00:00:00.000Z', 'true', '100', 'web'],
      ['2026-01-01T00:00:01.000Z', 'false', '200', 'web'],
      ['2026-01-01T00:00:02.000Z', 'true', '150', 'web'],
    ]);
  });

  it('csv quotes commas, quotes, line breaks and edge spaces; absent domain is empty', () => {
    const domains = ['a,b', 'say "hi"', 'two\nlines', ' pad ', '', undefined, 'cr\r'];
    const history = domains.map((domain, i) =>
      domain === undefined
        ? { at: T0 + i, success: i % 2 === 0, durationMs: i }
        : { at: T0 + i, success: i % 2 === 0, durationMs: i, domain },
    );
    const text = exportLearningData(snapshot({ stats: { ...snapshot().stats, history } }), 'csv');
    expect(
      parseCsv(text)
        .slice(1)
        .map((row) => row[3]),
    ).toEqual(domains.map((d) => d ?? ''));
    expect(text).toContain(',"say ""hi"""\r\n');
    expect(text).toContain(',""\r\n');
    expect(text.split('\r\n')[6]).toBe('2026-01-01T00:00:00.005Z,false,5,');
  });

  it('csv of an empty history is the header alone', () => {
    const empty = snapshot({ stats: { ...snapshot().stats, history: [] } });
    expect(exportLearningData(empty, 'csv')).toBe('at,success,durationMs,domain\r\n');
  });

  it('property: csv fields of any domain read back unchanged', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', minLength: 1 }), { maxLength: 8 }), (domains) => {
        const history = domains.map((domain, i) => ({ at: T0 + i, success: true, durationMs: i, domain }));
        const rows = parseCsv(
          exportLearningData(snapshot({ stats: { ...snapshot().stats, history } }), 'csv'),
        );
        expect(rows.slice(1).map((row) => row[3])).toEqual(domains);
      }),
    );
  });

  it('rejects an unknown format, naming `format`', () => {
    for (const format of ['xml', 'JSON', '', 7]) {
      let error: unknown;
      try {
        exportLearningData(snapshot(), format as ExportFormat);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(PatternValidationError);
      expect((error as PatternValidationError).details.field).toBe('format');
      expect((error as PatternValidationError).message).toContain('format');
    }
    expect(parseExportFormat('yaml')).toBe('yaml');
  });

  it('is pure: same text every time, input untouched, out-of-range times as numbers', () => {
    const s = snapshot({ createdAt: 9e15 });
    const copy = structuredClone(s);
    expect(exportLearningData(s, 'yaml')).toBe(exportLearningData(s, 'yaml'));
    expect(s).toEqual(copy);
    expect(learningDataOf(s).createdAt).toBe('9000000000000000');
    expect(learningDataOf(snapshot({ stats: { ...snapshot().stats, executions: 0 } })).successRate).toBe(0);
  });

  it('csvField leaves plain values bare', () => {
    expect([csvField('web'), csvField(true), csvField(12.5), csvField(undefined)]).toEqual([
      'web',
      'true',
      '12.5',
      '',
    ]);
  });
});
