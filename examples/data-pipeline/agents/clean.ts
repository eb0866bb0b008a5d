import { z } from 'zod';
import type { AgentTask } from '../../../src/actors/agent.js';
import { parseReleaseDate, rawMovieSchema } from './lib/movie.js';
import type { Movie } from './lib/movie.js';
import { maybeFail, resultOf } from './lib/pipeline.js';

const validated = z.object({ rows: z.array(rawMovieSchema) });

const text = (value: string | null, fallback: string): string =>
  value === null || value.trim() === '' ? fallback : value.trim();

/** clean_transform: normalises names and dates (repairing two-digit years), derives profit and ROI. */
export async function handler(task: AgentTask): Promise<{ rows: Movie[]; repairedDates: number }> {
  maybeFail(task);
  const { rows } = resultOf(task, 'validate_rows', validated);
  let repairedDates = 0;
  const movies = rows.map((row): Movie => {
    const date = parseReleaseDate(row['Release Date']);
    if (date.repaired) repairedDates += 1;
    const budget = row['Production Budget'];
    const worldwideGross = row['Worldwide Gross'];
    return {
      title: String(row.Title).trim(),
      releaseDate: date.iso,
      year: date.year,
      genre: text(row['Major Genre'], 'Unknown'),
      rating: text(row['MPAA Rating'], 'Not Rated'),
      distributor: text(row.Distributor, 'Unknown'),
      director: row.Director === null ? null : row.Director.trim(),
      budget,
      usGross: row['US Gross'],
      worldwideGross,
      profit: worldwideGross - budget,
      roi: Math.round(((worldwideGross - budget) / budget) * 1000) / 1000,
      imdb: row['IMDB Rating'],
      rottenTomatoes: row['Rotten Tomatoes Rating'],
      dateRepaired: date.repaired,
      flags: [],
    };
  });
  return { rows: movies, repairedDates };
}
