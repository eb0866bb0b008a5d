/**
 * The library under benchmark: the compiled build in bench/.lib (`npm run bench` makes it
 * with tsc), so the figures are those of the JavaScript users run. Through tsx every named
 * closure of ours gets a `__name()` wrapper that costs both time and about 3 KB per parked
 * run, which the XState baseline (already compiled) does not pay.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as Library from '../src/index.js';
import type * as NatsLibrary from '../src/nats.js';

const url = new URL('./.lib/index.js', import.meta.url);
if (!existsSync(fileURLToPath(url))) {
  throw new Error('bench/.lib is missing: run `npm run bench`, which compiles the library there first');
}
export const lib = (await import(url.href)) as typeof Library;

const natsUrl = new URL('./.lib/nats.js', import.meta.url);
/** The `natural-delegation/nats` subpath of the compiled build. */
export const nats = (await import(natsUrl.href)) as typeof NatsLibrary;
