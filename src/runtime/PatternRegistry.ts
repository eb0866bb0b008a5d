import { z } from 'zod';
import { PatternAnalytics } from '../learning/analytics.js';
import { contextSimilarity, domainFeatures, jaccard } from '../learning/similarity.js';
import { pruneOutcomes } from '../learning/outcomes.js';
import { systemClock, type Clock } from '../core/clock.js';
import { PatternConfig } from './PatternConfig.js';
import { LearningConfig } from './LearningConfig.js';
import { PatternContext, type PatternContextInput } from './PatternContext.js';
import { PatternAlreadyExistsError, PatternNotFoundError, PatternValidationError } from '../core/errors.js';
import { BuiltInPattern } from './patterns/BuiltInPattern.js';
import type { DelegationPattern } from './patterns/DelegationPattern.js';
import { MetaOrchestrationPattern } from './patterns/MetaOrchestrationPattern.js';
import { ParallelCoordinationPattern } from './patterns/ParallelCoordinationPattern.js';
import { SequentialDelegationPattern } from './patterns/SequentialDelegationPattern.js';
import { parseWith } from '../core/validate.js';
import { BoundedCache } from './BoundedCache.js';
import { DomainIndex } from './DomainIndex.js';
import { ArmLearner } from '../learning/ArmLearner.js';
import type { CellContext } from '../learning/cells.js';

const optionsSchema = z
  .object({
    /**
     * Most entries of the registry's lookup cache (domain → similarity features). It bounds
     * derived data only: a registered pattern and its learning data are never dropped.
     */
    cacheSize: z.number().int().min(1).default(1000),
    enableLearning: z.boolean().default(true),
    /** Time for analytics and cleanup (default: the wall clock, or the first executor's clock). */
    clock: z
      .custom<Clock>((c) => typeof c === 'object' && c !== null && 'now' in c, {
        message: 'clock needs now()',
      })
      .optional(),
  })
  .strict();
export type PatternRegistryOptions = z.input<typeof optionsSchema>;

const transferSchema = z
  .object({
    sourcePattern: z.string().min(1),
    targetPattern: z.string().min(1),
    similarityThreshold: z.number().min(0).max(1).optional(),
  })
  .strict();

/** Metrics handed to the monitoring callback after each execution. */
export interface ExecutionMetrics {
  /** That execution's wall time, ms. */
  readonly response_time: number;
  /** 0..1 over the retained outcomes. */
  readonly success_rate: number;
  /** Confidence score, 0..1. */
  readonly confidence: number;
  readonly sample_count: number;
}
export type MonitoringCallback = (patternName: string, metrics: ExecutionMetrics) => void;

/** Feature set of a pattern for similarity search (`featuresOf`: a domain's features, cached). */
function patternFeatures(
  p: DelegationPattern,
  featuresOf: (domain: string) => readonly string[],
): { domainFeatures: Set<string>; features: Set<string> } {
  const domains = new Set<string>();
  const features = new Set<string>();
  if (p instanceof BuiltInPattern)
    for (const d of p.domains) for (const f of featuresOf(d.replace(/\.?\*$/, ''))) domains.add(f);
  for (const d of Object.keys(p.outcomeStats.byDomain)) for (const f of featuresOf(d)) domains.add(f);
  if (p instanceof SequentialDelegationPattern) for (const s of p.stepNames) features.add(`item:${s}`);
  if (p instanceof ParallelCoordinationPattern) {
    for (const t of p.taskNames) features.add(`item:${t}`);
    for (const r of p.resources) features.add(`item:${r}`);
  }
  if (p instanceof MetaOrchestrationPattern) for (const d of p.coordinatedDomains) features.add(`item:${d}`);
  if (p instanceof BuiltInPattern) features.add(`kind:${p.kind}`);
  return { domainFeatures: domains, features };
}

/** Feature set of a context: required items and a pattern-kind word used as agent type. */
function contextFeatures(c: PatternContext): Set<string> {
  const out = new Set<string>();
  for (const key of [
    'required_steps',
    'requiredSteps',
    'required_resources',
    'requiredResources',
    'required_domains',
    'requiredDomains',
  ]) {
    const v = c.attributes[key];
    if (Array.isArray(v)) for (const x of v) out.add(`item:${String(x)}`);
  }
  const kind = (
    { sequential: 'sequential', parallel: 'parallel', orchestrator: 'meta', meta: 'meta' } as Record<
      string,
      string
    >
  )[c.agentType];
  if (kind) out.add(`kind:${kind}`);
  return out;
}

/**
 * Central registry of delegation patterns: registration, lookup, domain and similarity
 * search, analytics and cleanup.
 *
 * @example
 * const registry = new PatternRegistry();
 * registry.registerPattern(new SequentialDelegationPattern('flow', 'desc', ['a', 'b']));
 */
export class PatternRegistry {
  private readonly patterns = new Map<string, DelegationPattern>();
  private readonly listeners = new Set<(p: DelegationPattern) => void>();
  /** Capacity of the lookup cache (see the option); never a limit on registered patterns. */
  readonly cacheSize: number;
  private readonly domainFeatureCache: BoundedCache<string, readonly string[]>;
  readonly learningEnabled: boolean;
  private clock: Clock = systemClock;
  private clockChosen = false;
  private readonly domainIndex = new DomainIndex<DelegationPattern>();
  /** Inverted index of similarity features → patterns, and each pattern's features. */
  private readonly featureIndex = new Map<string, Set<DelegationPattern>>();
  private readonly featureCache = new Map<
    DelegationPattern,
    { byDomain: object; features: { domainFeatures: Set<string>; features: Set<string> } }
  >();
  /** Registration order (matching patterns are listed in it). */
  private readonly order = new Map<DelegationPattern, number>();
  private registered = 0;
  /** Pattern outcomes per context cell for selection, fed from each pattern's recorded history. */
  private learner: ArmLearner = new ArmLearner(LearningConfig.params());
  private readonly links = new Map<string, { source: string; weight: number }>();
  private monitor: MonitoringCallback | undefined;
  /** Per pattern: the stats object and execution count the learner has seen. */
  private readonly synced = new Map<
    string,
    { stats: DelegationPattern['outcomeStats']; executions: number }
  >();

  /** @throws PatternValidationError naming a bad option */
  constructor(options: PatternRegistryOptions | number = {}, enableLearning?: boolean) {
    const raw =
      typeof options === 'number'
        ? { cacheSize: options, ...(enableLearning === undefined ? {} : { enableLearning }) }
        : options;
    const o = parseWith(optionsSchema, raw, 'PatternRegistry');
    this.cacheSize = o.cacheSize;
    this.domainFeatureCache = new BoundedCache(o.cacheSize);
    this.learningEnabled = o.enableLearning;
    if (o.clock) {
      this.clock = o.clock;
      this.clockChosen = true;
    }
  }

  /**
   * @throws PatternAlreadyExistsError if the name is taken
   * @throws PatternValidationError if it is not a DelegationPattern
   */
  registerPattern(pattern: DelegationPattern): void {
    if (
      typeof pattern !== 'object' ||
      pattern === null ||
      typeof (pattern as Partial<DelegationPattern>).toSnapshot !== 'function'
    ) {
      throw new PatternValidationError('registerPattern expects a DelegationPattern', { field: 'pattern' });
    }
    if (this.patterns.has(pattern.name)) {
      throw new PatternAlreadyExistsError(`Pattern "${pattern.name}" is already registered`, {
        patternName: pattern.name,
      });
    }
    if (!this.learningEnabled) pattern.setLearningEnabled(false);
    this.patterns.set(pattern.name, pattern);
    this.domainIndex.add(pattern, pattern instanceof BuiltInPattern ? pattern.domains : []);
    this.order.set(pattern, this.registered++);
    for (const l of this.listeners) l(pattern);
  }

  /** Alias of {@link registerPattern} (integration guide). */
  register(pattern: DelegationPattern): void {
    this.registerPattern(pattern);
  }

  /** Removes a pattern; false if absent. */
  unregister(name: string): boolean {
    const p = this.patterns.get(name);
    if (p) {
      this.domainIndex.remove(p);
      this.order.delete(p);
      const known = this.featureCache.get(p);
      if (known)
        for (const f of [...known.features.domainFeatures, ...known.features.features])
          this.featureIndex.get(f)?.delete(p);
      this.featureCache.delete(p);
    }
    return this.patterns.delete(name);
  }

  /**
   * The registered patterns that match a context (through the domain index: patterns whose
   * declared domains cannot match are not tested), in registration order.
   */
  matchingPatterns(context: PatternContext): DelegationPattern[] {
    const out: DelegationPattern[] = [];
    for (const p of this.domainIndex.candidates(context)) if (p.matches(context)) out.push(p);
    return out.sort((a, b) => this.order.get(a)! - this.order.get(b)!);
  }

  /** The context cell pattern outcomes are counted in: the domain, any agent type. */
  static patternCell(domain: string): CellContext {
    return { domain, agentType: '*' };
  }

  /**
   * The learner of pattern selection, brought up to date with the given patterns' recorded
   * outcomes (each pattern's history is the source of truth: it is what storage saves, so the
   * learning survives a reload). A pattern whose stats were reset or pruned is replayed.
   */
  patternLearner(patterns: Iterable<DelegationPattern> = this.patterns.values()): ArmLearner {
    const params = LearningConfig.params();
    if (this.learner.params !== params) this.learner.setParams(params);
    for (const p of patterns) {
      const stats = p.outcomeStats;
      const seen = this.synced.get(p.name);
      if (seen?.stats === stats) continue;
      const fresh = stats.executions - (seen?.executions ?? 0);
      if (seen && (fresh < 0 || fresh > stats.history.length)) {
        this.replayAll();
        return this.learner;
      }
      for (const o of stats.history.slice(stats.history.length - fresh))
        this.learner.record(p.name, {
          at: o.at,
          success: o.success,
          latencyMs: o.durationMs,
          context: PatternRegistry.patternCell(o.domain ?? 'general'),
        });
      this.synced.set(p.name, { stats, executions: stats.executions });
    }
    return this.learner;
  }

  private replayAll(): void {
    this.learner = new ArmLearner(LearningConfig.params());
    for (const [target, l] of this.links) this.learner.link(target, l.source, l.weight);
    this.synced.clear();
    const all = this.listPatterns().flatMap((p) => p.outcomeStats.history.map((o) => [p, o] as const));
    all.sort((a, b) => a[1].at - b[1].at);
    for (const [p, o] of all)
      this.learner.record(p.name, {
        at: o.at,
        success: o.success,
        latencyMs: o.durationMs,
        context: PatternRegistry.patternCell(o.domain ?? 'general'),
      });
    for (const p of this.patterns.values())
      this.synced.set(p.name, { stats: p.outcomeStats, executions: p.outcomeStats.executions });
  }

  /** Features of a domain for similarity search, through the bounded lookup cache. */
  private featuresOf = (domain: string): readonly string[] =>
    this.domainFeatureCache.get(domain, domainFeatures);

  /** @throws PatternNotFoundError naming the pattern and the registered ones */
  getPattern(name: string): DelegationPattern {
    const p = this.patterns.get(name);
    if (!p) {
      const known = [...this.patterns.keys()];
      throw new PatternNotFoundError(
        `Pattern "${name}" is not registered (registered: ${known.length ? known.join(', ') : 'none'})`,
        { patternName: name },
      );
    }
    return p;
  }

  has(name: string): boolean {
    return this.patterns.has(name);
  }

  listPatterns(): DelegationPattern[] {
    return [...this.patterns.values()];
  }

  /**
   * Uses an executor's clock for analytics and cleanup unless a clock was given to the
   * constructor (PatternExecutor calls this, so outcomes and analytics share one time line).
   */
  adoptClock(clock: Clock): void {
    if (!this.clockChosen) this.clock = clock;
  }

  /** Subscribes to registrations (the executor binds itself this way); returns a disposer. */
  onRegister(listener: (pattern: DelegationPattern) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Patterns that match a context with this domain (wildcards in their declared domains), highest confidence first. */
  findPatternsByDomain(domain: string): DelegationPattern[] {
    const ctx = new PatternContext({ domain });
    return this.listPatterns()
      .filter((p) =>
        p instanceof BuiltInPattern
          ? p.domains.some((d) => ctx.matchesDomain(d)) || Object.hasOwn(p.outcomeStats.byDomain, domain)
          : p.matches(ctx),
      )
      .sort((a, b) => b.confidenceScore - a.confidenceScore);
  }

  /**
   * Patterns similar to a context, with their similarity (0..1, see `contextSimilarity`), at or above `threshold`, most similar first.
   */
  findSimilarPatterns(
    context: PatternContext | PatternContextInput,
    threshold = 0.7,
  ): [DelegationPattern, number][] {
    const ctx = PatternContext.from(context);
    const features = contextFeatures(ctx);
    const dFeatures = new Set(this.featuresOf(ctx.domain));
    // A pattern that shares no feature with the context and whose declared domains do not match
    // scores 0: with a positive threshold only the index's candidates need scoring.
    const candidates =
      threshold > 0 ? this.similarityCandidates(ctx, dFeatures, features) : this.patterns.values();
    const out: [DelegationPattern, number][] = [];
    for (const p of candidates) {
      const domainMatch = p instanceof BuiltInPattern && p.domains.some((d) => ctx.matchesDomain(d));
      const s = contextSimilarity(
        { domainMatch, domainFeatures: dFeatures, features },
        this.indexedFeatures(p),
      );
      if (s >= threshold) out.push([p, s]);
    }
    return out.sort((a, b) => b[1] - a[1] || this.order.get(a[0])! - this.order.get(b[0])!);
  }

  /** Features of a pattern, recomputed when it has run in a new domain; kept in the inverted index. */
  private indexedFeatures(p: DelegationPattern): { domainFeatures: Set<string>; features: Set<string> } {
    const byDomain = p.outcomeStats.byDomain;
    const known = this.featureCache.get(p);
    if (known?.byDomain === byDomain) return known.features;
    if (known)
      for (const f of [...known.features.domainFeatures, ...known.features.features])
        this.featureIndex.get(f)?.delete(p);
    const features = patternFeatures(p, this.featuresOf);
    for (const f of [...features.domainFeatures, ...features.features]) {
      let set = this.featureIndex.get(f);
      if (!set) this.featureIndex.set(f, (set = new Set()));
      set.add(p);
    }
    this.featureCache.set(p, { byDomain, features });
    return features;
  }

  /** Patterns sharing a feature with the context, or whose declared domains may match it. */
  private similarityCandidates(
    ctx: PatternContext,
    domainFeatures: ReadonlySet<string>,
    features: ReadonlySet<string>,
  ): Set<DelegationPattern> {
    for (const p of this.patterns.values()) this.indexedFeatures(p);
    const out = this.domainIndex.candidates(ctx);
    for (const f of [...domainFeatures, ...features])
      for (const p of this.featureIndex.get(f) ?? []) out.add(p);
    return out;
  }

  /**
   * Transfer learning between two patterns: while `targetPattern` has few outcomes in a context
   * cell (fewer than max(minSamples, transferCap)), its posterior there starts from
   * `sourcePattern`'s, as min(transferCap, source count) × similarity pseudo-counts. The similarity
   * is the Jaccard index of the two patterns' features (declared and executed domains, steps,
   * tasks, kind), 0..1.
   * @param similarityThreshold - 0..1 (default LearningConfig's pattern similarity threshold)
   * @returns the similarity used
   * @throws PatternNotFoundError for an unknown pattern
   * @throws PatternValidationError when the patterns are less similar than the threshold, or a field is invalid
   */
  enableTransferLearning(options: {
    sourcePattern: string;
    targetPattern: string;
    similarityThreshold?: number;
  }): number {
    const o = parseWith(transferSchema, options, 'enableTransferLearning');
    const source = this.getPattern(o.sourcePattern);
    const target = this.getPattern(o.targetPattern);
    const threshold = o.similarityThreshold ?? LearningConfig.getCurrentConfig().patternSimilarityThreshold;
    const a = this.indexedFeatures(source);
    const b = this.indexedFeatures(target);
    const similarity = jaccard(
      new Set([...a.domainFeatures, ...a.features]),
      new Set([...b.domainFeatures, ...b.features]),
    );
    if (similarity < threshold) {
      throw new PatternValidationError(
        `enableTransferLearning: "${o.sourcePattern}" and "${o.targetPattern}" have similarity ${similarity.toFixed(3)}, below the threshold ${threshold}`,
        { field: 'similarityThreshold', patternName: o.targetPattern },
      );
    }
    this.links.set(target.name, { source: source.name, weight: similarity });
    this.learner.link(target.name, source.name, similarity);
    return similarity;
  }

  /** Transfer links: target pattern → source pattern and similarity. */
  transferLinks(): { target: string; source: string; weight: number }[] {
    return [...this.links].map(([target, l]) => ({ target, ...l }));
  }

  /**
   * Calls `callback(patternName, metrics)` after each execution the executor records:
   * `response_time` (that run, ms), `success_rate` (0..1), `confidence` (score, 0..1),
   * `sample_count` (retained outcomes). A throwing callback is caught (and logged by the caller).
   * Pass undefined to stop.
   */
  setMonitoringCallback(callback: MonitoringCallback | undefined): void {
    if (callback !== undefined && typeof callback !== 'function')
      throw new PatternValidationError('setMonitoringCallback expects a function', { field: 'callback' });
    this.monitor = callback;
  }

  /** @internal The executor reports each recorded execution here. */
  notifyExecution(pattern: DelegationPattern, responseTimeMs: number): void {
    this.monitor?.(pattern.name, {
      response_time: responseTimeMs,
      success_rate: pattern.successRate,
      confidence: pattern.confidenceScore,
      sample_count: pattern.executionCount,
    });
  }

  /**
   * Drops every pattern's outcomes older than the retention (`PatternConfig.setMemoryRetentionDays`)
   * before `now` (epoch ms). @returns how many were dropped
   */
  applyRetention(now = this.clock.now()): number {
    const cutoff = now - PatternConfig.getCurrentConfig().memoryRetentionDays * 86_400_000;
    let dropped = 0;
    for (const p of this.patterns.values()) {
      const stats = p.outcomeStats;
      const kept = pruneOutcomes(stats, cutoff);
      if (kept === stats) continue;
      dropped += stats.executions - kept.executions;
      p.restoreFrom({ ...p.toSnapshot(), stats: kept });
    }
    return dropped;
  }

  /** @throws PatternNotFoundError */
  getPatternAnalytics(name: string): PatternAnalytics {
    const p = this.getPattern(name);
    const cfg = PatternConfig.getCurrentConfig();
    return new PatternAnalytics(
      p.outcomeStats,
      PatternConfig.scorer(),
      cfg.minSamples,
      this.clock.now(),
      LearningConfig.getCurrentConfig().prior,
    );
  }

  /**
   * Removes patterns not used (executed or registered) for `maxAgeHours`.
   * @returns how many were removed
   */
  cleanupUnusedPatterns(maxAgeHours = 24, now = this.clock.now()): number {
    const cutoff = now - maxAgeHours * 3_600_000;
    let removed = 0;
    for (const p of this.listPatterns()) {
      if (p.lastUsedAt < cutoff) {
        this.patterns.delete(p.name);
        removed += 1;
      }
    }
    return removed;
  }
}
