import path from 'node:path';
import { z } from 'zod';
import type { AgentTask, CompensationTask } from '../../../src/actors/agent.js';
import { removeOutputs, writeJson } from './lib/files.js';
import { movieSchema } from './lib/movie.js';
import type { Movie } from './lib/movie.js';
import { maybeFail, resultOf, runInput } from './lib/pipeline.js';

const ruled = z.object({ rows: z.array(movieSchema) });
const groupRows = z.object({
  rows: z.array(z.object({ key: z.string(), total: z.number(), count: z.number() })),
});

interface Group {
  key: string;
  count: number;
  total: number;
  mean: number;
}

function groupBy(movies: readonly Movie[], key: (m: Movie) => string, value: (m: Movie) => number): Group[] {
  const groups = new Map<string, { count: number; total: number }>();
  for (const movie of movies) {
    const g = groups.get(key(movie)) ?? { count: 0, total: 0 };
    groups.set(key(movie), { count: g.count + 1, total: g.total + value(movie) });
  }
  return [...groups.entries()]
    .map(([k, g]) => ({ key: k, count: g.count, total: g.total, mean: Math.round(g.total / g.count) }))
    .sort((a, b) => b.total - a.total);
}

const MIN_FILMS_FOR_DIRECTOR = 4;

/** One aggregate per capability; each is computed from the business-rule output. */
const aggregates: Record<string, (task: AgentTask, movies: Movie[]) => unknown> = {
  gross_by_genre: (_t, movies) =>
    groupBy(
      movies,
      (m) => m.genre,
      (m) => m.worldwideGross,
    ),
  profit_by_decade: (_t, movies) =>
    groupBy(
      movies,
      (m) => `${Math.floor(m.year / 10) * 10}s`,
      (m) => m.profit,
    ),
  roi_leaders: (_t, movies) =>
    [...movies]
      .filter((m) => m.budget >= 5_000_000)
      .sort((a, b) => b.roi - a.roi)
      .slice(0, 20)
      .map(({ title, year, budget, worldwideGross, roi }) => ({ title, year, budget, worldwideGross, roi })),
  titles_by_distributor: (_t, movies) =>
    groupBy(
      movies,
      (m) => m.distributor,
      () => 1,
    ).slice(0, 25),
  top_directors: (_t, movies) =>
    groupBy(
      movies.filter((m) => m.director !== null && m.imdb !== null),
      (m) => m.director ?? '',
      (m) => m.imdb ?? 0,
    )
      .filter((g) => g.count >= MIN_FILMS_FOR_DIRECTOR)
      .map((g) => ({
        director: g.key,
        films: g.count,
        meanImdb: Math.round((g.total / g.count) * 100) / 100,
      }))
      .sort((a, b) => b.meanImdb - a.meanImdb)
      .slice(0, 15),
  rating_mix: (_t, movies) =>
    groupBy(
      movies,
      (m) => m.rating,
      () => 1,
    ),
  genre_share: (task) => {
    // Depends on gross_by_genre: the share of each genre in the total gross.
    const { rows } = resultOf(task, 'gross_by_genre', groupRows);
    const all = rows.reduce((sum, g) => sum + g.total, 0);
    return rows.map((g) => ({
      genre: g.key,
      films: g.count,
      share: Math.round((g.total / all) * 10_000) / 100,
    }));
  },
};

/** Capabilities this module serves. */
export const CAPABILITIES = Object.keys(aggregates);

const file = (task: AgentTask): string => path.join(runInput(task).outDir, 'aggregates', `${task.step}.json`);

/** Computes the aggregate named by the task's capability and writes aggregates/<step>.json. */
export async function handler(task: AgentTask): Promise<{ file: string; rows: unknown }> {
  maybeFail(task);
  const compute = aggregates[task.capability];
  if (!compute) throw new Error(`no aggregate "${task.capability}" (known: ${CAPABILITIES.join(', ')})`);
  const { rows: movies } = resultOf(task, 'apply_business_rules', ruled);
  const rows = compute(task, movies);
  await writeJson(file(task), rows, task.signal);
  return { file: file(task), rows };
}

/** Removes aggregates/<step>.json (and the directory once empty). */
export async function compensate(task: CompensationTask): Promise<void> {
  await removeOutputs([file(task)], [path.dirname(file(task))]);
}
