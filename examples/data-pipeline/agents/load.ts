import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { z } from 'zod';
import type { AgentTask } from '../../../src/actors/agent.js';
import { maybeFail, runInput } from './lib/pipeline.js';

/** Path of movies.json in the installed vega-datasets package. */
export function moviesPath(): string {
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  return path.join(path.dirname(entry), '..', 'data', 'movies.json');
}

/** load_movies: reads the real movies dataset (3 201 rows) shipped in vega-datasets. */
export async function handler(task: AgentTask): Promise<{ source: string; rows: unknown[] }> {
  maybeFail(task);
  const file = moviesPath();
  const rows = z.array(z.unknown()).parse(JSON.parse(await readFile(file, 'utf8')));
  const { limit } = runInput(task);
  return { source: file, rows: limit === undefined ? rows : rows.slice(0, limit) };
}
