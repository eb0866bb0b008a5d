import { z } from 'zod';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A row of vega-datasets' movies.json that is usable: what validate_rows accepts. */
export const rawMovieSchema = z.looseObject({
  Title: z.union([z.string().trim().min(1), z.number()]),
  'US Gross': z.number().nonnegative(),
  'Worldwide Gross': z.number().positive('no worldwide gross (unreleased or missing)'),
  'Production Budget': z.number().positive(),
  'Release Date': z
    .string()
    .regex(/^[A-Z][a-z]{2} \d{2} \d{4}$/, 'release date is not "Mon DD YYYY"')
    .refine((text) => MONTHS.includes(text.slice(0, 3)), 'unknown month'),
  'MPAA Rating': z.string().nullable(),
  'Running Time min': z.number().positive().max(400).nullable(),
  Distributor: z.string().nullable(),
  'Major Genre': z.string().nullable(),
  Director: z.string().nullable(),
  'IMDB Rating': z.number().min(0).max(10).nullable(),
  'Rotten Tomatoes Rating': z.number().min(0).max(100).nullable(),
});
export type RawMovie = z.infer<typeof rawMovieSchema>;

/** A cleaned movie: stable field names, ISO date, derived figures. */
export const movieSchema = z.object({
  title: z.string(),
  releaseDate: z.string(),
  year: z.number().int(),
  genre: z.string(),
  rating: z.string(),
  distributor: z.string(),
  director: z.string().nullable(),
  budget: z.number(),
  usGross: z.number(),
  worldwideGross: z.number(),
  profit: z.number(),
  roi: z.number(),
  imdb: z.number().nullable(),
  rottenTomatoes: z.number().nullable(),
  dateRepaired: z.boolean(),
  flags: z.array(z.string()),
});
export type Movie = z.infer<typeof movieSchema>;

/** The dataset was compiled in 2010: later years are two-digit-year mistakes (2046 → 1946). */
export const LAST_YEAR = 2011;

/** "Jun 12 1998" → { iso: "1998-06-12", year, repaired }. */
export function parseReleaseDate(text: string): { iso: string; year: number; repaired: boolean } {
  const [mon = '', day = '', yearText = ''] = text.split(' ');
  const month = MONTHS.indexOf(mon) + 1;
  let year = Number(yearText);
  const repaired = year > LAST_YEAR;
  if (repaired) year -= 100;
  const iso = `${year}-${String(month).padStart(2, '0')}-${day.padStart(2, '0')}`;
  return { iso, year, repaired };
}

/** Columns of movies.csv, in order. */
export const CSV_COLUMNS = [
  'title',
  'releaseDate',
  'year',
  'genre',
  'rating',
  'distributor',
  'director',
  'budget',
  'usGross',
  'worldwideGross',
  'profit',
  'roi',
  'imdb',
  'rottenTomatoes',
  'flags',
] as const;
