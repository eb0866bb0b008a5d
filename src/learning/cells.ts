import { jaccard } from './similarity.js';

/**
 * Context cells: where outcomes are counted. A cell is a domain and an agent type; cells form a
 * hierarchy used as fallback while a cell has too few outcomes. Agent type `*` means any (the
 * path then starts at the domain). Pure.
 */

/** What a cell is made of (a run's context). */
export interface CellContext {
  readonly domain: string;
  readonly agentType: string;
  readonly attributes?: Readonly<Record<string, unknown>> | undefined;
}

/** The catch-all cell. */
export const ROOT_CELL = '*';

/**
 * The cells of a context, most specific first: `domain|agentType`, then the domain and each
 * dotted parent with any agent type (`a.b|*`, `a|*`), then `*`.
 * @example cellPath({ domain: 'web.frontend', agentType: 'ui' }) // ['web.frontend|ui', 'web.frontend|*', 'web|*', '*']
 */
export function cellPath(ctx: CellContext): string[] {
  const out = ctx.agentType === '*' ? [] : [`${ctx.domain}|${ctx.agentType}`];
  let d = ctx.domain;
  for (;;) {
    out.push(`${d}|*`);
    const cut = d.lastIndexOf('.');
    if (cut <= 0) break;
    d = d.slice(0, cut);
  }
  out.push(ROOT_CELL);
  return out;
}

/** Domain segments: split on `.` and `_` (`web_development.frontend` → web, development, frontend). */
function segments(domain: string): Set<string> {
  return new Set(domain.split(/[._]/).filter((s) => s.length > 0));
}

function attributePairs(attributes: Readonly<Record<string, unknown>> | undefined): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(attributes ?? {})) out.add(`${k}=${JSON.stringify(v)}`);
  return out;
}

/**
 * Similarity of two contexts, 0..1: 0.6 × domain + 0.2 × agent type + 0.2 × attributes, where the
 * domain term is 1 for the same domain, else the Jaccard index of their segments; the agent type
 * term is 1 when equal, else 0; the attribute term is the Jaccard index of `key=value` pairs
 * (1 when both have none). Identical contexts score 1.
 */
export function cellSimilarity(a: CellContext, b: CellContext): number {
  const domain = a.domain === b.domain ? 1 : jaccard(segments(a.domain), segments(b.domain));
  const agent = a.agentType === b.agentType ? 1 : 0;
  const pa = attributePairs(a.attributes);
  const pb = attributePairs(b.attributes);
  const attrs = pa.size === 0 && pb.size === 0 ? 1 : jaccard(pa, pb);
  return 0.6 * domain + 0.2 * agent + 0.2 * attrs;
}
