import { z } from 'zod';
import { betaMean, type Beta } from './beta.js';
import { cellPath, cellSimilarity, ROOT_CELL, type CellContext } from './cells.js';
import type { LearningParams } from './params.js';

const DAY_MS = 86_400_000;
/** Outcomes of an arm in a cell before change detection watches it. */
const CUSUM_WARMUP = 30;

/** One outcome of an arm (a pattern, or an agent for a capability). */
export interface ArmOutcome {
  /** When it ended, epoch ms (passed in: the learner never reads a clock). */
  readonly at: number;
  readonly success: boolean;
  /** How long it took, ms. */
  readonly latencyMs: number;
  /** 0..1 (e.g. a validator's score); default 1 on success, 0 on failure. */
  readonly reward?: number | undefined;
  readonly context: CellContext;
}

/** Counts of one arm in one cell. `dS`/`dF` are discounted as of tick `stamp`. */
interface Cell {
  n: number;
  rewardSum: number;
  dS: number;
  dF: number;
  stamp: number;
  latencySum: number;
  /** Exponentially weighted mean reward, step size = learning rate. */
  ewma: number;
  /** CUSUM statistics of change detection (exact cells). */
  low: number;
  high: number;
}

/** Gradient bandit state of one cell (Sutton & Barto §2.8). */
interface GradientCell {
  readonly prefs: Map<string, number>;
  baseline: number;
  n: number;
}

/** What a decision sees of one arm in one context. */
export interface ArmView {
  readonly arm: string;
  readonly posterior: Beta;
  /** Outcomes behind it (raw count in the cell used; 0 for the prior alone). */
  readonly samples: number;
  /** The cell used: a cell key, or `transfer:<cell>` / `link:<arm>` for a transferred prior. */
  readonly cell: string;
}

/** Per-cell summary of an arm (for stats and analytics). */
export interface ArmCellSummary {
  readonly cell: string;
  readonly samples: number;
  /** Raw mean reward, 0..1. */
  readonly successRate: number;
  /** Mean latency, ms. */
  readonly avgLatencyMs: number;
  /** Exponentially weighted mean reward, 0..1. */
  readonly weightedRate: number;
  readonly posterior: Beta;
}

const rewardOf = (o: ArmOutcome): number => o.reward ?? (o.success ? 1 : 0);

/**
 * The learning state of a set of arms competing for the same decisions: outcomes per arm, counts
 * per context cell (with the cell hierarchy of `cellPath`), discounted Beta posteriors, gradient
 * bandit preferences, and transfer priors. No I/O and no clock: time comes in with each outcome
 * and with `prune(now)`.
 *
 * Discounting is lazy: every outcome recorded in a cell advances that cell's tick, and an arm's
 * counts there are worth `count × γ^(ticks since they were last updated)`, so arms that are not
 * tried drift back to the prior (discounted Thompson sampling: V. Raj & S. Kalyani, "Taming
 * Non-stationary Bandits: A Bayesian Approach", 2017).
 */
export class ArmLearner {
  private readonly records = new Map<string, { outcomes: ArmOutcome[]; cells: Map<string, Cell> }>();
  private readonly ticks = new Map<string, number>();
  private readonly gradients = new Map<string, GradientCell>();
  /** Exact cells seen, with their context and outcome count. */
  private readonly known = new Map<string, { ctx: CellContext; n: number }>();
  private knownVersion = 0;
  private readonly similarCache = new Map<string, { version: number; source?: string; similarity: number }>();
  /** Explicit transfer links: target arm → source arm and weight (0..1). */
  private readonly links = new Map<string, { source: string; weight: number }>();
  /** Exact cells restarted by change detection: no fallback to parent or similar cells. */
  private readonly restarted = new Set<string>();
  /** Top-level domain cells seen (`d|*`, the children of `*`). */
  private readonly domainCells = new Set<string>();
  /** Outcomes applied so far (never reset: it dates `rootSkill`'s cache). */
  private applied = 0;
  private skillCache = { applied: -1, skill: 0 };

  constructor(private paramsValue: LearningParams) {}

  get params(): LearningParams {
    return this.paramsValue;
  }

  /** Replaces the knobs; counts are rebuilt from the retained outcomes when a replayed knob changed. */
  setParams(params: LearningParams): void {
    const old = this.paramsValue;
    this.paramsValue = params;
    this.similarCache.clear();
    if (
      old.discount !== params.discount ||
      old.learningRate !== params.learningRate ||
      old.minSamples !== params.minSamples ||
      old.algorithm !== params.algorithm ||
      old.changeDelta !== params.changeDelta ||
      old.changeThreshold !== params.changeThreshold
    )
      this.rebuild();
  }

  /** Arms with at least one retained outcome. */
  armNames(): string[] {
    return [...this.records.keys()];
  }

  /** Retained outcomes of an arm, oldest first. */
  outcomes(arm: string): readonly ArmOutcome[] {
    return this.records.get(arm)?.outcomes ?? [];
  }

  /** Records one outcome of `arm`. */
  record(arm: string, outcome: ArmOutcome): void {
    let rec = this.records.get(arm);
    if (!rec) {
      rec = { outcomes: [], cells: new Map() };
      this.records.set(arm, rec);
    }
    rec.outcomes.push(outcome);
    this.apply(arm, rec.cells, outcome);
  }

  private apply(arm: string, cells: Map<string, Cell>, o: ArmOutcome): void {
    const { discount, learningRate, minSamples } = this.paramsValue;
    // Preferences are kept only while the gradient bandit is the algorithm (switching replays).
    const gradient = this.paramsValue.algorithm === 'adaptive_gradient';
    const r = rewardOf(o);
    const path = cellPath(o.context);
    for (const key of path) {
      const tick = (this.ticks.get(key) ?? 0) + 1;
      this.ticks.set(key, tick);
      let c = cells.get(key);
      if (!c) {
        c = { n: 0, rewardSum: 0, dS: 0, dF: 0, stamp: tick, latencySum: 0, ewma: 0, low: 0, high: 0 };
        cells.set(key, c);
      }
      const decay = Math.pow(discount, tick - c.stamp);
      c.dS = c.dS * decay + r;
      c.dF = c.dF * decay + (1 - r);
      c.stamp = tick;
      c.n += 1;
      c.rewardSum += r;
      c.latencySum += o.latencyMs;
      c.ewma = c.n === 1 ? r : c.ewma + learningRate * (r - c.ewma);
      if (gradient) this.updateGradient(key, arm, r, learningRate);
    }
    this.applied += 1;
    this.domainCells.add(path[path.length - 2]!);
    const exact = path[0]!;
    const shift = this.changed(cells.get(exact)!, r);
    if (shift) this.onChange(arm, exact, shift);
    const k = this.known.get(exact) ?? { ctx: o.context, n: 0 };
    k.n += 1;
    this.known.set(exact, k);
    if (k.n === minSamples) this.knownVersion += 1;
  }

  /**
   * Change detection on an exact cell (the drift rule DelegBench chose): a two-sided Bernoulli
   * CUSUM (E. S. Page, "Continuous inspection schemes", Biometrika 41, 1954) against the cell's
   * mean μ0 since its last restart, for a shift of `changeDelta`:
   * S⁻ ← max(0, S⁻ + μ0 − δ/2 − r), S⁺ ← max(0, S⁺ + r − μ0 − δ/2); a change when either passes
   * `changeThreshold` (after 30 outcomes of warm-up). What restarts then: see `onChange`; a
   * restart of every arm of the cell is as in CUSUM-UCB (Liu, Lee & Shroff, "A Change-Detection
   * based Framework for Piecewise-stationary Multi-Armed Bandit Problem", AAAI 2018).
   */
  private changed(cell: Cell, r: number): 'drop' | 'rise' | undefined {
    const { changeDelta, changeThreshold } = this.paramsValue;
    if (changeThreshold === 0 || cell.n <= CUSUM_WARMUP) return undefined;
    const mu = (cell.rewardSum - r) / (cell.n - 1);
    cell.low = Math.max(0, cell.low + mu - changeDelta / 2 - r);
    cell.high = Math.max(0, cell.high + r - mu - changeDelta / 2);
    if (cell.low > changeThreshold) return 'drop';
    if (cell.high > changeThreshold) return 'rise';
    return undefined;
  }

  /** The arm with the highest posterior mean in an exact cell. */
  private cellLeader(key: string): string | undefined {
    const { prior } = this.paramsValue;
    let leader: string | undefined;
    let top = -1;
    for (const [arm, rec] of this.records) {
      const c = rec.cells.get(key);
      if (!c) continue;
      const { s, f } = this.counts(c, key);
      const mean = (prior.alpha + s) / (prior.alpha + prior.beta + s + f);
      if (mean > top) {
        top = mean;
        leader = arm;
      }
    }
    return leader;
  }

  /**
   * What a detected change does, by who changed and which way:
   * - the cell's leader (highest posterior mean) dropped: every arm of the cell restarts (the
   *   ranking is in doubt);
   * - another arm rose: likewise (it may now be the best);
   * - the leader rose: nothing restarts (it stays the best), its CUSUM starts over;
   * - another arm dropped: only that arm restarts (the ranking stands).
   * Restarting only where the ranking is in doubt halves the costly global restarts that false
   * alarms cause in a stationary cell (DelegBench S1); local vs global restarts: Besson &
   * Kaufmann, "Efficient Change-Point Detection for Tackling Piecewise-Stationary Bandits",
   * JMLR 23, 2022.
   */
  private onChange(arm: string, key: string, shift: 'drop' | 'rise'): void {
    const isLeader = this.cellLeader(key) === arm;
    const rec = this.records.get(arm)!;
    if (shift === 'rise' && isLeader) {
      const c = rec.cells.get(key)!;
      c.low = 0;
      c.high = 0;
    } else if (shift === 'drop' && !isLeader) {
      rec.cells.delete(key);
      this.restarted.add(key);
    } else {
      this.resetCell(key);
    }
  }

  /** Forgets every arm's counts in an exact cell after a change; it no longer falls back to parents. */
  private resetCell(key: string): void {
    for (const rec of this.records.values()) rec.cells.delete(key);
    this.gradients.delete(key);
    this.restarted.add(key);
  }

  /**
   * Gradient bandit update (Sutton & Barto, "Reinforcement Learning", 2nd ed., §2.8, eq. 2.12):
   * H(a) ← H(a) + α (R − R̄)(1[a = A] − π(a)), R̄ the mean reward before this one.
   */
  private updateGradient(key: string, arm: string, r: number, alpha: number): void {
    let g = this.gradients.get(key);
    if (!g) {
      g = { prefs: new Map(), baseline: 0, n: 0 };
      this.gradients.set(key, g);
    }
    if (!g.prefs.has(arm)) g.prefs.set(arm, 0);
    const pi = softmax(g.prefs);
    const advantage = r - g.baseline;
    for (const [a, h] of g.prefs) g.prefs.set(a, h + alpha * advantage * ((a === arm ? 1 : 0) - pi.get(a)!));
    g.n += 1;
    g.baseline += (r - g.baseline) / g.n;
  }

  /**
   * Drops outcomes older than `retentionDays` before `now` (epoch ms) and rebuilds the counts
   * from the rest. @returns how many were dropped
   */
  prune(now: number): number {
    const cutoff = now - this.paramsValue.retentionDays * DAY_MS;
    let removed = 0;
    for (const [arm, rec] of this.records) {
      if (rec.outcomes.length === 0 || rec.outcomes[0]!.at >= cutoff) continue;
      const kept = rec.outcomes.filter((o) => o.at >= cutoff);
      removed += rec.outcomes.length - kept.length;
      if (kept.length === 0) this.records.delete(arm);
      else rec.outcomes = kept;
    }
    if (removed > 0) this.rebuild();
    return removed;
  }

  /** Replays every retained outcome in time order. */
  private rebuild(): void {
    const all: [string, ArmOutcome][] = [];
    for (const [arm, rec] of this.records) {
      for (const o of rec.outcomes) all.push([arm, o]);
      rec.cells.clear();
    }
    all.sort((a, b) => a[1].at - b[1].at);
    this.ticks.clear();
    this.gradients.clear();
    this.known.clear();
    this.similarCache.clear();
    this.restarted.clear();
    this.domainCells.clear();
    this.skillCache = { applied: -1, skill: 0 };
    this.knownVersion += 1;
    for (const [arm, o] of all) this.apply(arm, this.records.get(arm)!.cells, o);
  }

  /**
   * Links `target` to `source`: while `target` has fewer than `minSamples` outcomes in a cell, its
   * prior there carries `source`'s counts, capped at `transferCap` pseudo-counts and scaled by
   * `weight` (0..1).
   */
  link(target: string, source: string, weight: number): void {
    this.links.set(target, { source, weight });
  }

  /** Transfer links, target → source and weight. */
  linkList(): { target: string; source: string; weight: number }[] {
    return [...this.links].map(([target, l]) => ({ target, ...l }));
  }

  /** The most similar known cell (≥ minSamples outcomes, similarity ≥ threshold) to a new one. */
  private similarCell(exact: string, ctx: CellContext): { source?: string; similarity: number } {
    const cached = this.similarCache.get(exact);
    if (cached && cached.version === this.knownVersion) return cached;
    const { minSamples, similarityThreshold } = this.paramsValue;
    let best: { source?: string; similarity: number } = { similarity: 0 };
    for (const [key, k] of this.known) {
      if (key === exact || k.n < minSamples) continue;
      const s = cellSimilarity(ctx, k.ctx);
      if (s >= similarityThreshold && s > best.similarity) best = { source: key, similarity: s };
    }
    this.similarCache.set(exact, { version: this.knownVersion, ...best });
    return best;
  }

  /**
   * How well the catch-all cell `*` predicts an arm's success rate in a domain from the other
   * domains, 0..1 (0 = not at all, 1 = exactly): the mean-square-error skill score of
   * A. H. Murphy ("Skill scores based on the mean square error and their relationships to the
   * correlation coefficient", Monthly Weather Review 116, 1988), 1 − MSE(forecast) / MSE(reference),
   * over the N pairs (arm, top-level domain d) where the arm has `minSamples` outcomes both in d and
   * outside it. The forecast of its rate in d is its rate outside d (so it never saw the domain it
   * predicts); the reference is d's mean rate over those arms, i.e. knowing the domain's level but
   * not which arm is better in it. MSE(forecast) = SSE / N; MSE(reference) = SST / (N − D), the D
   * domain means being fitted to the same rates. Rates are posterior means of the raw counts on the
   * prior. Clipped at 0; 0 while no domain has two such arms. Recomputed once the outcomes have
   * grown by 1% since the last time (so its cost stays small however many outcomes come in).
   */
  rootSkill(): number {
    const last = this.skillCache.applied;
    if (last >= 0 && this.applied - last <= last / 100) return this.skillCache.skill;
    const { prior, minSamples } = this.paramsValue;
    const mean = (s: number, n: number) => (prior.alpha + s) / (prior.alpha + prior.beta + n);
    let sse = 0;
    let sst = 0;
    let pairs = 0;
    let domains = 0;
    const p: number[] = [];
    const q: number[] = [];
    for (const key of this.domainCells) {
      p.length = 0;
      q.length = 0;
      for (const rec of this.records.values()) {
        const d = rec.cells.get(key);
        const all = rec.cells.get(ROOT_CELL);
        if (!d || !all || d.n < minSamples || all.n - d.n < minSamples) continue;
        p.push(mean(d.rewardSum, d.n));
        q.push(mean(all.rewardSum - d.rewardSum, all.n - d.n));
      }
      if (p.length < 2) continue;
      pairs += p.length;
      domains += 1;
      const pBar = p.reduce((x, y) => x + y, 0) / p.length;
      for (let i = 0; i < p.length; i++) {
        sse += (p[i]! - q[i]!) ** 2;
        sst += (p[i]! - pBar) ** 2;
      }
    }
    // Mean squared error of the forecast over that of the reference, whose D domain means were
    // fitted to the same N rates: SSE / N against SST / (N − D), each unbiased.
    const skill = sst > 0 ? Math.max(0, 1 - sse / pairs / (sst / (pairs - domains))) : 0;
    this.skillCache = { applied: this.applied, skill };
    return skill;
  }

  private counts(cell: Cell, key: string): { s: number; f: number } {
    const decay = Math.pow(this.paramsValue.discount, (this.ticks.get(key) ?? cell.stamp) - cell.stamp);
    return { s: cell.dS * decay, f: cell.dF * decay };
  }

  /**
   * The posterior of `arm` in a context, from the first of these that applies:
   * - while the exact cell has fewer than max(`minSamples`, `transferCap`) outcomes of the arm
   *   ("young") and a transfer source exists (an explicit link, or the most similar known cell at
   *   or above `similarityThreshold`): a transferred prior of min(`transferCap`, source count) ×
   *   similarity pseudo-counts at the source's rate, plus the cell's own counts;
   * - the exact cell once it has `minSamples` (under the catch-all's prior while young, below);
   * - the first domain parent cell with `minSamples`;
   * - while young, the catch-all `*` as a transferred prior: its counts from the other top-level
   *   domains, min(`transferCap`, count) × `rootSkill()` pseudo-counts, plus the cell's own
   *   counts; not at all while `rootSkill()` is 0 (domains that do not agree say nothing about
   *   this one);
   * - the exact cell's own counts (on the prior); else the prior.
   * A cell restarted by change detection uses its own counts only.
   * @param path - `cellPath(ctx)`, when the caller already has it
   */
  view(arm: string, ctx: CellContext, path: readonly string[] = cellPath(ctx)): ArmView {
    const { prior, minSamples, transferCap } = this.paramsValue;
    const cells = this.records.get(arm)?.cells;
    const exact = path[0]!;
    const own = cells?.get(exact);
    if (this.restarted.has(exact)) {
      return own
        ? this.posteriorOf(arm, own, exact)
        : { arm, posterior: { ...prior }, samples: 0, cell: exact };
    }
    // A transferred prior stays under the cell's own counts until they reach `transferCap`.
    const young = (own?.n ?? 0) < Math.max(minSamples, transferCap);
    const base = own ? this.counts(own, exact) : { s: 0, f: 0 };
    const transferred = (c: { s: number; f: number }, weight: number, label: string): ArmView => {
      const n = c.s + c.f;
      const k = Math.min(transferCap, n) * weight;
      const mean = n === 0 ? 0.5 : c.s / n;
      return {
        arm,
        posterior: { alpha: prior.alpha + k * mean + base.s, beta: prior.beta + k * (1 - mean) + base.f },
        samples: own?.n ?? 0,
        cell: label,
      };
    };
    if (young) {
      const link = this.links.get(arm);
      if (link) {
        const sourceCells = this.records.get(link.source)?.cells;
        for (const key of path) {
          const c = sourceCells?.get(key);
          if (c && c.n >= minSamples)
            return transferred(this.counts(c, key), link.weight, `link:${link.source}`);
        }
      }
      const similar = this.similarCell(exact, ctx);
      if (similar.source !== undefined) {
        const c = cells?.get(similar.source);
        if (c)
          return transferred(
            this.counts(c, similar.source),
            similar.similarity,
            `transfer:${similar.source}`,
          );
      }
    }
    // The catch-all pools every domain; it informs a cell as far as it is measured to predict one
    // domain from the others (it used to stand in outright for an arm never tried in the cell,
    // and locked DelegBench S1 cells out of their best agent: its domains are unrelated).
    const fromRoot = (): ArmView | undefined => {
      const all = cells?.get(ROOT_CELL);
      if (!young || !all) return undefined;
      const skill = this.rootSkill();
      if (skill === 0) return undefined;
      // Its counts less the cell's own top-level domain (exact with γ = 1; with γ < 1 the two
      // cells' counts are discounted on their own clocks, so the difference is approximate).
      const top = path[path.length - 2]!;
      const mine = cells?.get(top);
      const a = this.counts(all, ROOT_CELL);
      const m = mine ? this.counts(mine, top) : { s: 0, f: 0 };
      const other = { s: Math.max(0, a.s - m.s), f: Math.max(0, a.f - m.f) };
      return other.s + other.f > 0 ? transferred(other, skill, `transfer:${ROOT_CELL}`) : undefined;
    };
    if (own && own.n >= minSamples) return fromRoot() ?? this.posteriorOf(arm, own, exact);
    for (let i = 1; i < path.length - 1; i++) {
      const key = path[i]!;
      const c = cells?.get(key);
      if (c && c.n >= minSamples) return this.posteriorOf(arm, c, key);
    }
    const root = fromRoot();
    if (root) return root;
    if (own) return this.posteriorOf(arm, own, exact);
    return { arm, posterior: { ...prior }, samples: 0, cell: exact };
  }

  private posteriorOf(arm: string, cell: Cell, key: string): ArmView {
    const { prior } = this.paramsValue;
    const c = this.counts(cell, key);
    return {
      arm,
      posterior: { alpha: prior.alpha + c.s, beta: prior.beta + c.f },
      samples: cell.n,
      cell: key,
    };
  }

  /** Gradient preferences of the cell a context uses (exact once it has `minSamples`, else a parent). */
  gradientCell(path: readonly string[]): { key: string; prefs: ReadonlyMap<string, number> } {
    for (const key of path) {
      const g = this.gradients.get(key);
      if (g && (g.n >= this.paramsValue.minSamples || key === ROOT_CELL)) return { key, prefs: g.prefs };
    }
    return { key: ROOT_CELL, prefs: new Map() };
  }

  /** Every cell of an arm, most outcomes first. */
  summary(arm: string): ArmCellSummary[] {
    const cells = this.records.get(arm)?.cells;
    if (!cells) return [];
    const out: ArmCellSummary[] = [];
    for (const [key, c] of cells) {
      const v = this.posteriorOf(arm, c, key);
      out.push({
        cell: key,
        samples: c.n,
        successRate: c.rewardSum / c.n,
        avgLatencyMs: c.latencySum / c.n,
        weightedRate: c.ewma,
        posterior: v.posterior,
      });
    }
    return out.sort((a, b) => b.samples - a.samples || a.cell.localeCompare(b.cell));
  }

  /** Posterior mean of an arm in a context, 0..1. */
  mean(arm: string, ctx: CellContext): number {
    return betaMean(this.view(arm, ctx).posterior);
  }
}

/** The saved form of an {@link ArmLearner}: retained outcomes per arm and transfer links. */
export const learnerStateSchema = z
  .object({
    version: z.literal(1),
    arms: z.record(
      z.string(),
      z.array(
        z
          .object({
            at: z.number(),
            success: z.boolean(),
            latencyMs: z.number().min(0),
            reward: z.number().min(0).max(1).optional(),
            context: z
              .object({
                domain: z.string(),
                agentType: z.string(),
                attributes: z.record(z.string(), z.unknown()).optional(),
              })
              .strict(),
          })
          .strict(),
      ),
    ),
    links: z.array(
      z.object({ target: z.string(), source: z.string(), weight: z.number().min(0).max(1) }).strict(),
    ),
  })
  .strict();
export type LearnerState = z.infer<typeof learnerStateSchema>;

/** The state to save: every retained outcome and link (counts are rebuilt on load). */
export function learnerState(learner: ArmLearner): LearnerState {
  const arms: LearnerState['arms'] = {};
  for (const arm of learner.armNames()) arms[arm] = learner.outcomes(arm).map((o) => ({ ...o }));
  return { version: 1, arms, links: learner.linkList() };
}

/** A learner rebuilt from a saved state (outcomes replayed in time order). */
export function restoreLearner(state: LearnerState, params: LearningParams): ArmLearner {
  const l = new ArmLearner(params);
  const all = Object.entries(state.arms).flatMap(([arm, list]) => list.map((o) => [arm, o] as const));
  all.sort((a, b) => a[1].at - b[1].at);
  for (const [arm, o] of all) l.record(arm, o);
  for (const link of state.links) l.link(link.target, link.source, link.weight);
  return l;
}

/** Softmax of preferences, π(a) = e^H(a) / Σ e^H(b) (max-shifted for stability). */
export function softmax(prefs: ReadonlyMap<string, number>): Map<string, number> {
  let max = -Infinity;
  for (const h of prefs.values()) if (h > max) max = h;
  let sum = 0;
  const out = new Map<string, number>();
  for (const [a, h] of prefs) {
    const e = Math.exp(h - max);
    out.set(a, e);
    sum += e;
  }
  for (const [a, e] of out) out.set(a, e / sum);
  return out;
}
