/**
 * DelegBench diagnostic (issue 12): where the default policy loses accuracy in S1 (stationary)
 * and S2 (abrupt change). Per decision index within a cell: accuracy and the rule used; per cell:
 * the first convergence (right or wrong arm), change-detection alarms and what they restarted,
 * fallbacks to the parent / catch-all cell, and how the last 20% was lost.
 *
 *   npx tsx bench/learningDiag.ts [--first-seed 1001] [--seeds 400] [--scenario stationary|abrupt]
 *                                 [--patch '{"convergenceThreshold":0.9}'] [--no-root] [--show-skill]
 *                                 [--show-alarms]
 *
 * "fallback" counts decisions where some arm's posterior carried the catch-all's prior.
 */
import {
  ArmLearner,
  decide,
  defaultLearningParams,
  seededRandom,
  type ArmView,
  type CellContext,
  type LearningParams,
} from '../src/index.js';
import type { Policy } from './learningPolicies.js';
import { AGENTS, DOMAINS, seedRange, stationaryOrDrift, summary } from './learningScenarios.js';

const { first, count } = seedRange(process.argv);
const argOf = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const patch = JSON.parse(argOf('--patch') ?? '{}') as Partial<LearningParams>;
/**
 * Ablation, `--no-root`: the catch-all cell never informs a cell (an arm's own counts on the
 * prior instead of the skill-weighted prior from `*`).
 */
const noRoot = process.argv.includes('--no-root');
/** Per run, `rootSkill()` every 400 decisions (`--show-skill`). */
const skills: number[][] = [];
class DiagLearner extends ArmLearner {
  override view(arm: string, ctx: CellContext, path?: readonly string[]): ArmView {
    const v = super.view(arm, ctx, path);
    if (!noRoot || (v.cell !== '*' && v.cell !== 'transfer:*')) return v;
    const exact = `${ctx.domain}|${ctx.agentType}`;
    const own = this.summary(arm).find((c) => c.cell === exact);
    return own
      ? { arm, posterior: own.posterior, samples: own.samples, cell: exact }
      : { arm, posterior: { ...this.params.prior }, samples: 0, cell: exact };
  }
}
const kind = (argOf('--scenario') ?? 'stationary') as 'stationary' | 'abrupt';
const T = kind === 'stationary' ? 4000 : 6000;
const PER_CELL = T / DOMAINS.length;
const BIN = 50;
const bins = PER_CELL / BIN;

interface Alarm {
  k: number;
  kind: string;
}
const acc = new Array<number>(bins).fill(0);
const exploitShare = new Array<number>(bins).fill(0);
const exploitWrong = new Array<number>(bins).fill(0);
const thompsonWrong = new Array<number>(bins).fill(0);
const rootUsed = new Array<number>(bins).fill(0);
const rootWrong = new Array<number>(bins).fill(0);
let cells = 0;
let firstLockWrong = 0;
let firstLocks = 0;
const firstLockAt: number[] = [];
const alarms = new Map<string, number>();
const alarmCostly: number[] = [];
let lastLost = 0;
let lastLostLockedWrong = 0;
let lastLostThompson = 0;
let lastLostInRestartedCells = 0;
const overall: number[] = [];
const last20: number[] = [];
const lockedWrongAtEnd: number[] = [];
const wrongLockKinds = new Map<string, number>();
const alarmDetail: string[] = [];

for (let seed = first; seed < first + count; seed++) {
  const l = new DiagLearner({ ...defaultLearningParams, ...patch });
  const random = seededRandom(seed);
  const current = new Map<string, number>(); // cell → decision index within it
  const cellAlarms = new Map<string, Alarm[]>();
  const internals = l as unknown as {
    onChange(arm: string, key: string, shift: 'drop' | 'rise'): void;
    cellLeader(key: string): string | undefined;
  };
  const onChange = internals.onChange.bind(l);
  internals.onChange = (arm, key, shift) => {
    const leader = internals.cellLeader(key) === arm;
    const what = `${leader ? 'leader' : 'other'} ${shift}`;
    if (kind === 'stationary') {
      const c = l.summary(arm).find((x) => x.cell === key)!;
      alarmDetail.push(`${what} n=${c.samples} rate=${c.successRate.toFixed(3)}`);
    }
    alarms.set(what, (alarms.get(what) ?? 0) + 1);
    const list = cellAlarms.get(key) ?? [];
    list.push({ k: current.get(key.replace('|web', '')) ?? -1, kind: what });
    cellAlarms.set(key, list);
    onChange(arm, key, shift);
  };
  let lastRule = '';
  let lastRoot = false;
  const policy: Policy = {
    choose(ctx, arms) {
      const d = decide(l, arms, ctx, random);
      lastRule = d.rule;
      lastRoot = d.arms.some((a) => a.cell === '*' || a.cell === 'transfer:*');
      return d.chosen;
    },
    update: (ctx, arm, success, t) => l.record(arm, { at: t, success, latencyMs: 1, context: ctx }),
  };
  const perCell = new Map<
    string,
    { locked: boolean; lastWrong: number; lastThompsonWrong: number; best: string }
  >();
  const skill: number[] = [];
  skills.push(skill);
  const res = stationaryOrDrift(policy, seed, T, kind, (t, ctx, _arm, correct, best) => {
    if (t % 400 === 399) skill.push(l.rootSkill());
    const k = Math.floor(t / DOMAINS.length);
    current.set(ctx.domain, k);
    const b = Math.floor(k / BIN);
    const st = perCell.get(ctx.domain) ?? { locked: false, lastWrong: 0, lastThompsonWrong: 0, best };
    perCell.set(ctx.domain, st);
    if (correct) acc[b]! += 1;
    if (lastRule === 'exploit') {
      exploitShare[b]! += 1;
      if (!correct) exploitWrong[b]! += 1;
      if (!st.locked) {
        st.locked = true;
        firstLocks += 1;
        firstLockAt.push(k);
        if (!correct) firstLockWrong += 1;
      }
    } else if (!correct) thompsonWrong[b]! += 1;
    if (lastRoot) {
      rootUsed[b]! += 1;
      if (!correct) rootWrong[b]! += 1;
    }
    if (k >= PER_CELL * 0.8 && !correct) {
      st.lastWrong += 1;
      if (lastRule !== 'exploit') st.lastThompsonWrong += 1;
    }
  });
  overall.push(res.overall);
  last20.push(res.last20);
  let wrongEnd = 0;
  for (const [domain, st] of perCell) {
    cells += 1;
    lastLost += st.lastWrong;
    lastLostThompson += st.lastThompsonWrong;
    if (st.lastWrong - st.lastThompsonWrong > 0.5 * PER_CELL * 0.2) {
      lastLostLockedWrong += st.lastWrong - st.lastThompsonWrong;
      wrongEnd += 1;
      const ctx = { domain, agentType: 'web' };
      const v = l.view(st.best, ctx);
      const own = l.summary(st.best).find((c) => c.cell === `${domain}|web`);
      const key = `best arm ${own ? (own.samples < 5 ? 'tried 1-4' : own.samples < 20 ? 'tried 5-19' : 'tried 20+') : 'never tried'}, view cell ${v.cell}`;
      wrongLockKinds.set(key, (wrongLockKinds.get(key) ?? 0) + 1);
    }
    const al = cellAlarms.get(`${domain}|web`) ?? [];
    if (al.some((a) => a.kind !== 'leader rise')) lastLostInRestartedCells += st.lastWrong;
    for (const a of al) if (a.kind === 'leader drop' || a.kind === 'other rise') alarmCostly.push(a.k);
  }
  lockedWrongAtEnd.push(wrongEnd);
  void AGENTS;
}

const n = cells;
const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(1)}%`;
console.log(
  `scenario ${kind}, seeds ${first}–${first + count - 1}, patch ${JSON.stringify(patch)}${noRoot ? ', the catch-all never informs a cell' : ''}`,
);
console.log(`overall ${summary(overall)}, last 20% ${summary(last20)}`);
console.log(
  '\nper decision index within a cell (bins of 50): accuracy, exploit share, wrong by exploit / thompson, decisions using a fallback cell (wrong)',
);
for (let b = 0; b < bins; b++)
  console.log(
    `${String(b * BIN).padStart(4)}–${String(b * BIN + BIN - 1).padEnd(4)} acc ${pct(acc[b]!, n * BIN).padStart(6)}  exploit ${pct(exploitShare[b]!, n * BIN).padStart(6)}  wrong: exploit ${pct(exploitWrong[b]!, n * BIN).padStart(6)} thompson ${pct(thompsonWrong[b]!, n * BIN).padStart(6)}  fallback ${pct(rootUsed[b]!, n * BIN).padStart(6)} (${rootWrong[b]})`,
  );
firstLockAt.sort((a, b) => a - b);
console.log(
  `\nfirst convergence: ${firstLocks} of ${n} cells, wrong arm ${pct(firstLockWrong, firstLocks)}, at index p10/p50/p90 ${firstLockAt[Math.floor(firstLocks * 0.1)]}/${firstLockAt[Math.floor(firstLocks * 0.5)]}/${firstLockAt[Math.floor(firstLocks * 0.9)]}`,
);
console.log(`alarms per run: ${[...alarms].map(([k, v]) => `${k} ${(v / count).toFixed(3)}`).join(', ')}`);
alarmCostly.sort((a, b) => a - b);
console.log(
  `whole-cell restarts: ${alarmCostly.length} (${(alarmCostly.length / count).toFixed(3)} per run), at cell index ${alarmCostly.slice(0, 40).join(' ')}${alarmCostly.length > 40 ? ' …' : ''}`,
);
console.log(
  `last 20% wrong: ${pct(lastLost, n * PER_CELL * 0.2)} of decisions; by thompson ${pct(lastLostThompson, n * PER_CELL * 0.2)}; in cells locked on a wrong arm ${pct(lastLostLockedWrong, n * PER_CELL * 0.2)} (${lockedWrongAtEnd.reduce((s, x) => s + x, 0)} cells); in cells with a restarting alarm ${pct(lastLostInRestartedCells, n * PER_CELL * 0.2)}`,
);
console.log(
  `cells locked on a wrong arm at the end: ${[...wrongLockKinds].map(([k, v]) => `${k}: ${v}`).join('; ')}`,
);
if (process.argv.includes('--show-skill'))
  for (let i = 0; i < skills[0]!.length; i++) {
    const xs = skills.map((a) => a[i]!).sort((a, b) => a - b);
    console.log(
      `catch-all skill at t=${(i + 1) * 400}: mean ${(xs.reduce((s, x) => s + x, 0) / xs.length).toFixed(3)}, share > 0 ${(xs.filter((x) => x > 0).length / xs.length).toFixed(2)}, p90 ${xs[Math.floor(xs.length * 0.9)]!.toFixed(3)}, max ${xs[xs.length - 1]!.toFixed(3)}`,
    );
  }
if (process.argv.includes('--show-alarms')) console.log(alarmDetail.join('\n'));
