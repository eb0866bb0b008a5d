/**
 * Similarity between a task context and a pattern, from feature sets: the Jaccard index
 * |A ∩ B| / |A ∪ B| (P. Jaccard, 1901) over features such as `domain:web_development`,
 * `domain:web_development.*` (every dotted prefix), `agent:frontend`, `step:validate`,
 * `attr:framework=react`. Pure.
 */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 0;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared += 1;
  return shared / (a.size + b.size - shared);
}

/** Features of a domain: itself and each dotted/underscored prefix (`web_development.frontend` → `web`, `web_development`, …). */
export function domainFeatures(domain: string): string[] {
  const out = [`domain:${domain}`];
  for (let i = 0; i < domain.length; i++) {
    if (domain[i] === '.' || domain[i] === '_') out.push(`domain-prefix:${domain.slice(0, i)}`);
  }
  return out;
}

/**
 * Similarity of a context to a pattern, 0..1: 0.5 × domain similarity (1 when a declared
 * domain or wildcard matches, else Jaccard of domain features, including domains the pattern was
 * executed in) + 0.5 × Jaccard of the remaining features when the context has any (else the
 * domain similarity again: an exact domain match with nothing else asked scores 1).
 */
export function contextSimilarity(
  context: { domainMatch: boolean; domainFeatures: ReadonlySet<string>; features: ReadonlySet<string> },
  pattern: { domainFeatures: ReadonlySet<string>; features: ReadonlySet<string> },
): number {
  const domain = context.domainMatch ? 1 : jaccard(context.domainFeatures, pattern.domainFeatures);
  // Features the context does not ask about do not count against a pattern: with none, an exact
  // (or declared wildcard) domain match scores 1.
  const rest = context.features.size === 0 ? domain : jaccard(context.features, pattern.features);
  return 0.5 * domain + 0.5 * rest;
}
