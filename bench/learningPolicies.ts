/**
 * DelegBench policies: the learning layer (through the public API) and the baselines it is
 * measured against, all choosing one of `arms` per decision in a context cell.
 */
import {
  ArmLearner,
  decide,
  defaultLearningParams,
  seededRandom,
  type CellContext,
  type LearningParams,
} from '../src/index.js';

export interface Policy {
  choose(ctx: CellContext, arms: readonly string[]): string;
  update(ctx: CellContext, arm: string, success: boolean, t: number): void;
}

/** The learning layer: ArmLearner + decide, with the given knobs. */
export function learned(
  seed: number,
  patch: Partial<LearningParams> = {},
  learner?: ArmLearner,
): Policy & { learner: ArmLearner } {
  const l = learner ?? new ArmLearner({ ...defaultLearningParams, ...patch });
  const random = seededRandom(seed);
  return {
    learner: l,
    choose: (ctx, arms) => decide(l, arms, ctx, random).chosen,
    update: (ctx, arm, success, t) => l.record(arm, { at: t, success, latencyMs: 1, context: ctx }),
  };
}

interface Counts {
  n: number;
  s: number;
}

/** Per-domain counts for the baselines (each learns every domain on its own, like ours). */
function table() {
  const byCell = new Map<string, Map<string, Counts>>();
  return (ctx: CellContext, arm: string): Counts => {
    const key = `${ctx.domain}|${ctx.agentType}`;
    let m = byCell.get(key);
    if (!m) byCell.set(key, (m = new Map<string, Counts>()));
    let c = m.get(arm);
    if (!c) m.set(arm, (c = { n: 0, s: 0 }));
    return c;
  };
}

/**
 * Greedy, the rule before the learning layer: argmax of success rate × min(1, n / 5), first on
 * ties; never explores.
 */
export function greedy(): Policy {
  const counts = table();
  return {
    choose(ctx, arms) {
      let best = arms[0]!;
      let top = -1;
      for (const a of arms) {
        const c = counts(ctx, a);
        const score = c.n === 0 ? 0 : (c.s / c.n) * Math.min(1, c.n / 5);
        if (score > top) {
          top = score;
          best = a;
        }
      }
      return best;
    },
    update(ctx, arm, success) {
      const c = counts(ctx, arm);
      c.n += 1;
      c.s += success ? 1 : 0;
    },
  };
}

/** ε-greedy (Sutton & Barto §2.2): uniform with probability ε, else the best sample mean (untried first). */
export function epsilonGreedy(seed: number, epsilon = 0.1): Policy {
  const counts = table();
  const random = seededRandom(seed);
  return {
    choose(ctx, arms) {
      if (random() < epsilon) return arms[Math.floor(random() * arms.length)]!;
      let best = arms[0]!;
      let top = -1;
      for (const a of arms) {
        const c = counts(ctx, a);
        const mean = c.n === 0 ? Infinity : c.s / c.n;
        if (mean > top) {
          top = mean;
          best = a;
        }
      }
      return best;
    },
    update(ctx, arm, success) {
      const c = counts(ctx, arm);
      c.n += 1;
      c.s += success ? 1 : 0;
    },
  };
}

/** UCB1 (Auer, Cesa-Bianchi & Fischer, Machine Learning 47, 2002): mean + √(2 ln t / n), each arm once first. */
export function ucb1(): Policy {
  const counts = table();
  const totals = new Map<string, number>();
  return {
    choose(ctx, arms) {
      const t = totals.get(`${ctx.domain}|${ctx.agentType}`) ?? 0;
      let best = arms[0]!;
      let top = -Infinity;
      for (const a of arms) {
        const c = counts(ctx, a);
        if (c.n === 0) return a;
        const value = c.s / c.n + Math.sqrt((2 * Math.log(Math.max(1, t))) / c.n);
        if (value > top) {
          top = value;
          best = a;
        }
      }
      return best;
    },
    update(ctx, arm, success) {
      const key = `${ctx.domain}|${ctx.agentType}`;
      totals.set(key, (totals.get(key) ?? 0) + 1);
      const c = counts(ctx, arm);
      c.n += 1;
      c.s += success ? 1 : 0;
    },
  };
}
