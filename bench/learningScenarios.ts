/**
 * DelegBench scenarios (issue 12), shared by `learning.bench.ts` and the diagnostic
 * `learningDiag.ts`: agents succeed with a probability that depends on the agent and the domain;
 * accuracy is the share of decisions that chose the true best agent of the context at that time.
 */
import { seededRandom, type CellContext } from '../src/index.js';
import type { Policy } from './learningPolicies.js';

export const RATES = [0.85, 0.75, 0.65, 0.55, 0.45];
export const AGENTS = ['a0', 'a1', 'a2', 'a3', 'a4'];
export const DOMAINS = ['books', 'music', 'games', 'films'];

type Random = () => number;
function permutation(r: Random): number[] {
  const a = [...RATES];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
export const argmax = (xs: readonly number[]): number => xs.indexOf(Math.max(...xs));

export interface Accuracy {
  overall: number;
  last20: number;
}

/** What a diagnostic sees of each decision: index, context, the arm chosen, whether it was the best, the best. */
export type DecisionObserver = (
  t: number,
  ctx: CellContext,
  arm: string,
  correct: boolean,
  best: string,
) => void;

/** S1 / S2 / S3 over `T` decisions, domains in turn. */
export function stationaryOrDrift(
  policy: Policy,
  seed: number,
  T: number,
  kind: 'stationary' | 'abrupt' | 'gradual',
  observe?: DecisionObserver,
): Accuracy {
  const env = seededRandom(seed * 7919 + 13);
  let rates = DOMAINS.map(() => permutation(env));
  let logits = rates.map((rs) => rs.map((p) => Math.log(p / (1 - p))));
  let ok = 0;
  let okLast = 0;
  const from = Math.floor(T * 0.8);
  for (let t = 0; t < T; t++) {
    if (kind === 'abrupt' && (t === Math.floor(T / 3) || t === Math.floor((2 * T) / 3)))
      rates = DOMAINS.map(() => permutation(env));
    if (kind === 'gradual') {
      logits = logits.map((ls) => ls.map((l) => l + (env() < 0.5 ? -0.01 : 0.01)));
      rates = logits.map((ls) => ls.map((l) => 1 / (1 + Math.exp(-l))));
    }
    const d = t % DOMAINS.length;
    const ctx = { domain: DOMAINS[d]!, agentType: 'web' };
    const arm = policy.choose(ctx, AGENTS);
    const i = AGENTS.indexOf(arm);
    const best = argmax(rates[d]!);
    const correct = i === best;
    if (correct) {
      ok += 1;
      if (t >= from) okLast += 1;
    }
    observe?.(t, ctx, arm, correct, AGENTS[best]!);
    policy.update(ctx, arm, env() < rates[d]![i]!, t);
  }
  return { overall: ok / T, last20: okLast / (T - from) };
}

/**
 * S4: 2,000 decisions over the four domains (agent type `web`), then 100 in a new cell (`books`,
 * agent type `mobile`) whose rates are those of `books` ± 0.03: accuracy over those 100.
 */
export function transfer(make: () => Policy, seed: number, mode: 'trained' | 'cold'): number {
  const env = seededRandom(seed * 104_729 + 7);
  const rates = DOMAINS.map(() => permutation(env));
  const policy = make();
  if (mode === 'trained') {
    for (let t = 0; t < 2000; t++) {
      const d = t % DOMAINS.length;
      const ctx = { domain: DOMAINS[d]!, agentType: 'web' };
      const arm = policy.choose(ctx, AGENTS);
      policy.update(ctx, arm, env() < rates[d]![AGENTS.indexOf(arm)]!, t);
    }
  }
  const near = rates[0]!.map((p) => p + (env() * 2 - 1) * 0.03);
  const best = argmax(near);
  const ctx: CellContext = { domain: 'books', agentType: 'mobile' };
  let ok = 0;
  for (let t = 0; t < 100; t++) {
    const arm = policy.choose(ctx, AGENTS);
    const i = AGENTS.indexOf(arm);
    if (i === best) ok += 1;
    policy.update(ctx, arm, env() < near[i]!, 2000 + t);
  }
  return ok / 100;
}

/**
 * S4b: 2,000 decisions over the four domains (agent type `web`), then 100 in a new domain (`news`,
 * agent type `web`; similarity 0.4 to the others, so no transfer: only the catch-all cell `*`
 * knows the agents). `agree`: every domain's rates, the new one's included, are one permutation
 * ± 0.03 (the catch-all predicts the new domain); else each domain has its own permutation (it
 * does not). Accuracy over the 100 decisions in the new domain.
 */
export function newDomain(make: () => Policy, seed: number, agree: boolean): number {
  const env = seededRandom(seed * 15_485_863 + 11);
  const base = permutation(env);
  const draw = () => (agree ? base.map((p) => p + (env() * 2 - 1) * 0.03) : permutation(env));
  const rates = DOMAINS.map(draw);
  const policy = make();
  for (let t = 0; t < 2000; t++) {
    const d = t % DOMAINS.length;
    const ctx = { domain: DOMAINS[d]!, agentType: 'web' };
    const arm = policy.choose(ctx, AGENTS);
    policy.update(ctx, arm, env() < rates[d]![AGENTS.indexOf(arm)]!, t);
  }
  const fresh = draw();
  const best = argmax(fresh);
  const ctx: CellContext = { domain: 'news', agentType: 'web' };
  let ok = 0;
  for (let t = 0; t < 100; t++) {
    const arm = policy.choose(ctx, AGENTS);
    const i = AGENTS.indexOf(arm);
    if (i === best) ok += 1;
    policy.update(ctx, arm, env() < fresh[i]!, 2000 + t);
  }
  return ok / 100;
}

/** Mean ± 95% interval (normal approximation) of per-seed values, in percent. */
export function summary(xs: readonly number[]): string {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
  const half = (1.96 * sd) / Math.sqrt(xs.length);
  return `${(mean * 100).toFixed(1)}% ± ${(half * 100).toFixed(1)}`;
}

/**
 * `--seeds N` (default 200) and `--first-seed S` (default 1) from the command line: the seeds
 * S .. S + N − 1. The published figures are seeds 1–200; knobs are chosen on other seeds
 * (e.g. `--first-seed 1001 --seeds 400`).
 */
export function seedRange(argv: readonly string[]): { first: number; count: number } {
  const arg = (name: string, fallback: number): number => {
    const i = argv.indexOf(name);
    if (i < 0) return fallback;
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v)) throw new Error(`${name} must be an integer, got ${argv[i + 1]}`);
    return v;
  };
  const count = arg('--seeds', 200);
  const first = arg('--first-seed', 1);
  if (count < 2) throw new Error(`--seeds must be an integer ≥ 2, got ${count}`);
  return { first, count };
}
