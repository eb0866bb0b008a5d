import type { PatternContext } from './PatternContext.js';

/**
 * Which registered patterns may match a context's domain, without testing every pattern: declared
 * domains that are a literal (`web`) are looked up by value, `prefix*` ones by each prefix of the
 * context's domain, and the rest (`*` inside, or no declared domain) are always candidates.
 * Candidates still go through `pattern.matches`.
 */
export class DomainIndex<T> {
  private readonly literal = new Map<string, Set<T>>();
  private readonly prefix = new Map<string, Set<T>>();
  private readonly always = new Set<T>();

  private static add<T>(map: Map<string, Set<T>>, key: string, item: T): void {
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    set.add(item);
  }

  /** @param domains - declared domain patterns; none means every domain */
  add(item: T, domains: readonly string[]): void {
    if (domains.length === 0) this.always.add(item);
    for (const d of domains) {
      const star = d.indexOf('*');
      if (star === -1) DomainIndex.add(this.literal, d, item);
      else if (star === d.length - 1) DomainIndex.add(this.prefix, d.slice(0, -1), item);
      else this.always.add(item);
    }
  }

  remove(item: T): void {
    this.always.delete(item);
    for (const set of this.literal.values()) set.delete(item);
    for (const set of this.prefix.values()) set.delete(item);
  }

  /** Items whose declared domains may match `ctx.domain`, each once. */
  candidates(ctx: Pick<PatternContext, 'domain'>): Set<T> {
    const out = new Set(this.always);
    for (const x of this.literal.get(ctx.domain) ?? []) out.add(x);
    if (this.prefix.size > 0) {
      for (let i = 0; i <= ctx.domain.length; i++) {
        const set = this.prefix.get(ctx.domain.slice(0, i));
        if (set) for (const x of set) out.add(x);
      }
    }
    return out;
  }
}
