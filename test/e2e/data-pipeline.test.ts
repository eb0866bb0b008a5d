import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ndf, parseJsonl } from './cli.js';
import { tempDir } from '../helpers/tempDir.js';
import type { CliResult } from './cli.js';

const WORKFLOW = 'examples/data-pipeline/workflow.yaml';
const STEPS = [
  'prepare_output',
  'load_movies',
  'validate_rows',
  'clean_transform',
  'apply_business_rules',
  'store_results',
];
const AGGREGATES = [
  'gross_by_genre',
  'genre_share',
  'profit_by_decade',
  'roi_leaders',
  'titles_by_distributor',
  'top_directors',
  'rating_mix',
];

async function pipelineDir(): Promise<string> {
  return tempDir('ndf-pipeline-');
}

describe('example 1: the movie data pipeline', () => {
  let out: string;
  let traceFile: string;
  let run: CliResult;

  beforeAll(async () => {
    const dir = await pipelineDir();
    out = path.join(dir, 'out');
    traceFile = path.join(dir, 'trace.jsonl');
    run = await ndf(['run', WORKFLOW, '--input', JSON.stringify({ outDir: out }), '--trace', traceFile]);
  });

  it('succeeds and prints a summary row per step', () => {
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    for (const step of [...STEPS, ...AGGREGATES, 'write_report', 'finalize']) {
      expect(run.stdout).toMatch(new RegExp(`│ [\\w_ ›]*${step} +│ ✔ completed +│ \\w+ +│ 1 +│`));
    }
    expect(run.stdout).toMatch(/movie_pipeline ✔ succeeded in [\d.]+ m?s \(run [0-9a-f-]+\)/);
    // Where the files went: the last step's output names the manifest.
    expect(run.stdout).toContain(
      `output of publish › finalize: {"manifest":${JSON.stringify(path.join(out, 'manifest.json'))},"files":12}`,
    );
  });

  it('stores the valid, cleaned rows as JSON and CSV, quarantines the invalid ones', async () => {
    const movies = JSON.parse(await readFile(path.join(out, 'movies.json'), 'utf8')) as {
      title: string;
      year: number;
      flags: string[];
    }[];
    const quarantine = JSON.parse(await readFile(path.join(out, 'quarantine.json'), 'utf8')) as {
      problems: string[];
    }[];
    const csv = (await readFile(path.join(out, 'movies.csv'), 'utf8')).trimEnd().split('\r\n');
    expect(movies.length).toBeGreaterThan(2500);
    expect(quarantine.length).toBeGreaterThan(0);
    // Every row is accounted for: stored + quarantined + excluded by the rules = 3201 in movies.json.
    const report = await readFile(path.join(out, 'report.md'), 'utf8');
    const excluded = Number(/excluded by business rules \(micro budgets\) \| (\d+)/.exec(report)?.[1]);
    expect(movies.length + quarantine.length + excluded).toBe(3201);
    expect(csv[0]).toBe(
      'title,releaseDate,year,genre,rating,distributor,director,budget,usGross,worldwideGross,profit,roi,imdb,rottenTomatoes,flags',
    );
    expect(csv.length).toBe(movies.length + 1);
    expect(movies.every((m) => m.year >= 1900 && m.year <= 2011)).toBe(true);
    expect(movies.some((m) => m.flags.includes('blockbuster'))).toBe(true);
    expect(quarantine[0]?.problems.length).toBeGreaterThan(0);
  });

  it('writes every aggregate, the report and a complete manifest, and no partial marker', async () => {
    expect((await readdir(path.join(out, 'aggregates'))).sort()).toEqual(
      AGGREGATES.map((a) => `${a}.json`).sort(),
    );
    const share = JSON.parse(await readFile(path.join(out, 'aggregates', 'genre_share.json'), 'utf8')) as {
      share: number;
    }[];
    expect(share.reduce((sum, g) => sum + g.share, 0)).toBeCloseTo(100, 0);
    const manifest = JSON.parse(await readFile(path.join(out, 'manifest.json'), 'utf8')) as {
      complete: boolean;
      files: { file: string; bytes: number }[];
    };
    expect(manifest.complete).toBe(true);
    expect(manifest.files.map((f) => f.file)).toEqual(
      expect.arrayContaining(['movies.json', 'movies.csv', 'report.md', 'quarantine.json']),
    );
    expect(manifest.files.every((f) => f.bytes > 0)).toBe(true);
    expect(existsSync(path.join(out, '_PARTIAL'))).toBe(false);
  });

  it('traces every event as JSON lines with timestamps, including machine transitions', async () => {
    const events = parseJsonl(await readFile(traceFile, 'utf8'));
    expect(events[0]).toMatchObject({ type: 'run.started', pattern: 'movie_pipeline' });
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'succeeded' });
    const times = events.map((e) => e.at as number);
    expect(times.every((t, i) => Number.isFinite(t) && (i === 0 || t >= (times[i - 1] ?? 0)))).toBe(true);
    const completed = events
      .filter((e) => e.type === 'step.status' && e.status === 'completed')
      .map((e) => e.step);
    expect(completed.sort()).toEqual([...STEPS, ...AGGREGATES, 'write_report', 'finalize'].sort());
    expect(
      events.filter((e) => e.type === 'phase.status' && e.status === 'succeeded').map((e) => e.phase),
    ).toEqual(['ingest', 'aggregate', 'publish']);
    expect(events.some((e) => e.type === 'transition')).toBe(true);
  });
});

describe('example 1 with an injected failure', () => {
  it('rolls back every completed step and leaves no output behind (exit 1)', async () => {
    const dir = await pipelineDir();
    const out = path.join(dir, 'out');
    const traceFile = path.join(dir, 'trace.jsonl');
    const run = await ndf([
      'run',
      WORKFLOW,
      '--input',
      JSON.stringify({ outDir: out, failAt: 'write_report' }),
      '--trace',
      traceFile,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/│ publish › write_report +│ ✖ failed +│ reporter/);
    expect(run.stdout).toMatch(
      /│ ingest › store_results +│ ↺ compensated +│ store +│ 1 +│ [\d.]+ m?s +│ undone/,
    );
    expect(run.stdout).toContain('movie_pipeline ↺ rolledBack');
    expect(run.stdout).toContain('injected failure at step "write_report"');
    expect(existsSync(out)).toBe(false);
    const events = parseJsonl(await readFile(traceFile, 'utf8'));
    const compensated = events
      .filter((e) => e.type === 'step.status' && e.status === 'compensated')
      .map((e) => e.step);
    expect(compensated).toEqual(expect.arrayContaining([...STEPS, ...AGGREGATES]));
    // Compensation runs in reverse: the first step is undone last.
    expect(compensated.at(-1)).toBe('prepare_output');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', status: 'rolledBack' });
  });

  it('a rollback undoes only what the run wrote: the outputs of an earlier good run come back', async () => {
    const dir = await pipelineDir();
    const out = path.join(dir, 'out');
    const good = await ndf(['run', WORKFLOW, '--input', JSON.stringify({ outDir: out, limit: 200 })]);
    expect(good.code).toBe(0);
    const manifest = await readFile(path.join(out, 'manifest.json'), 'utf8');
    const failed = await ndf([
      'run',
      WORKFLOW,
      '--input',
      JSON.stringify({ outDir: out, limit: 300, failAt: 'write_report' }),
    ]);
    expect(failed.code).toBe(1);
    expect(await readFile(path.join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    const movies = JSON.parse(await readFile(path.join(out, 'movies.json'), 'utf8')) as unknown[];
    expect(movies.length).toBeLessThanOrEqual(200);
    expect((await readdir(out)).sort()).toEqual(
      [
        '.ndf-data-pipeline',
        'aggregates',
        'manifest.json',
        'movies.csv',
        'movies.json',
        'quarantine.json',
        'report.md',
      ].sort(),
    );
    // Nothing set aside is left beside it.
    expect(await readdir(dir)).toEqual(['out']);
  });

  it('a failure in the parallel phase also leaves nothing half-written', async () => {
    const out = path.join(await pipelineDir(), 'out');
    const run = await ndf([
      'run',
      WORKFLOW,
      '--input',
      JSON.stringify({ outDir: out, failAt: 'top_directors' }),
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/│ catalog_aggregates › top_directors +│ ✖ failed/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('example 1: --dry-run and --json', () => {
  it('--dry-run prints the plan and runs nothing', async () => {
    const out = path.join(await pipelineDir(), 'out');
    const run = await ndf(['run', WORKFLOW, '--dry-run', '--input', JSON.stringify({ outDir: out })]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('├─ phase aggregate (parallel; success ≥ 100%; errors ≤ 0)');
    expect(run.stdout).toContain('genre_share (agent analyst; after gross_by_genre)');
    expect(run.stdout).toContain('nothing was run (--dry-run)');
    expect(existsSync(out)).toBe(false);
  });

  it('--json prints one JSON event per line, then the result', async () => {
    const out = path.join(await pipelineDir(), 'out');
    const run = await ndf([
      'run',
      WORKFLOW,
      '--json',
      '--input',
      JSON.stringify({ outDir: out, limit: 300 }),
    ]);
    expect(run.code).toBe(0);
    const lines = parseJsonl(run.stdout);
    // the run id comes first (the run is journaled), then the events
    expect(lines[0]).toMatchObject({ type: 'run.id', runId: expect.any(String) });
    expect(lines[1]).toMatchObject({ type: 'run.started', runId: lines[0]?.runId });
    const last = lines.at(-1) as {
      type: string;
      result: { success: boolean; steps: { name: string; output?: unknown }[] };
    };
    expect(last.type).toBe('run.result');
    expect(last.result.success).toBe(true);
    expect(last.result.steps).toHaveLength(15);
    const finalize = last.result.steps.find((s) => s.name === 'finalize');
    expect(finalize?.output).toEqual({ manifest: path.join(out, 'manifest.json'), files: 12 });
    const load = last.result.steps.find((s) => s.name === 'load_movies')?.output as { rows: unknown[] };
    expect(load.rows).toHaveLength(300);
  });
});
