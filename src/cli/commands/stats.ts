import Table from 'cli-table3';
import { Command } from 'commander';
import pc from 'picocolors';
import { credibleInterval, betaMean, type Beta } from '../../learning/beta.js';
import { ArmLearner, restoreLearner, type ArmCellSummary } from '../../learning/ArmLearner.js';
import { ConfidenceLevel } from '../../learning/ConfidenceLevel.js';
import { LearningConfig } from '../../runtime/LearningConfig.js';
import { PatternConfig } from '../../runtime/PatternConfig.js';
import { PatternRegistry } from '../../runtime/PatternRegistry.js';
import { PatternStorage } from '../../runtime/PatternStorage.js';
import { readAgentLearning } from '../../storage/agentLearningFile.js';
import { ExitCode } from '../exit.js';
import { isPatternError } from '../../core/errors.js';

/** One row of `ndf stats`: an arm (pattern, or agent for a capability) in one context cell. */
export interface StatsRow {
  readonly kind: 'pattern' | 'agent';
  readonly name: string;
  /** The capability, for an agent. */
  readonly capability?: string | undefined;
  /** `domain|agentType`, `domain|*` (any agent type) or `*`. */
  readonly cell: string;
  readonly samples: number;
  /** Raw success rate, 0..1. */
  readonly successRate: number;
  /** Posterior mean, 0..1, and its 95% credible interval. */
  readonly posteriorMean: number;
  readonly interval: readonly [number, number];
  readonly posterior: Beta;
  readonly level: 'LOW' | 'MEDIUM' | 'HIGH';
}

/** Rows of one arm: every cell, most samples first. Level: LOW below minSamples, else by the interval's lower bound. */
function rowsOf(
  kind: StatsRow['kind'],
  name: string,
  cells: ArmCellSummary[],
  capability?: string,
): StatsRow[] {
  const { minSamples } = PatternConfig.getCurrentConfig();
  return cells.map((c) => {
    const interval = credibleInterval(c.posterior);
    const level = c.samples < minSamples ? ConfidenceLevel.LOW : ConfidenceLevel.fromScore(interval[0]);
    return {
      kind,
      name,
      ...(capability === undefined ? {} : { capability }),
      cell: c.cell,
      samples: c.samples,
      successRate: c.successRate,
      posteriorMean: betaMean(c.posterior),
      interval,
      posterior: c.posterior,
      level: ConfidenceLevel.nameOf(level),
    };
  });
}

/**
 * The learning state of a store directory as rows: each stored pattern's outcomes per domain
 * (replayed through the same learner pattern selection uses) and the saved agent learning.
 * @param pattern - only this pattern (and no agents)
 * @throws PatternNotFoundError when `pattern` is not stored
 */
export async function collectStats(storagePath: string, pattern?: string): Promise<StatsRow[]> {
  const storage = new PatternStorage({ storagePath });
  const snapshots =
    pattern === undefined ? await storage.listSnapshots() : [await storage.loadSnapshot(pattern)];
  const patterns = new ArmLearner(LearningConfig.params());
  for (const s of snapshots)
    for (const o of s.stats.history)
      patterns.record(s.name, {
        at: o.at,
        success: o.success,
        latencyMs: o.durationMs,
        context: PatternRegistry.patternCell(o.domain ?? 'general'),
      });
  const rows = snapshots.flatMap((s) => rowsOf('pattern', s.name, patterns.summary(s.name)));
  if (pattern !== undefined) return rows;
  const agents = await readAgentLearning(storage.storagePath);
  for (const [capability, state] of Object.entries(agents?.capabilities ?? {})) {
    const l = restoreLearner(state, LearningConfig.params());
    for (const arm of l.armNames().sort()) rows.push(...rowsOf('agent', arm, l.summary(arm), capability));
  }
  return rows;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The rows as a table (cli-table3). */
export function statsTable(rows: readonly StatsRow[]): string {
  const table = new Table({
    head: ['kind', 'name', 'capability', 'cell', 'samples', 'success', 'posterior mean [95% CI]', 'level'],
  });
  for (const r of rows)
    table.push([
      r.kind,
      r.name,
      r.capability ?? '',
      r.cell,
      String(r.samples),
      pct(r.successRate),
      `${pct(r.posteriorMean)} [${pct(r.interval[0])}, ${pct(r.interval[1])}]`,
      r.level === 'HIGH' ? pc.green(r.level) : r.level === 'MEDIUM' ? pc.yellow(r.level) : r.level,
    ]);
  return table.toString();
}

/** `ndf stats [--store dir] [--pattern p] [--json]`. */
export function statsCommand(): Command {
  return new Command('stats')
    .description(
      'show what the runtime has learned: per pattern and agent, per context cell, the posterior, samples and confidence level',
    )
    .option('--store <dir>', 'store directory (PatternStorage)', '.nd/patterns')
    .option('--pattern <name>', 'only this pattern')
    .option('--json', 'print the rows as JSON')
    .addHelpText(
      'after',
      `
Cells: "domain|agentType" (agents), "domain|*" (a domain, any agent type), "*" (everything).
The posterior is Beta(prior + successes, prior + failures); the level is LOW below minSamples,
else from the 95% interval's lower bound (HIGH > 0.8 ≥ MEDIUM ≥ 0.5 > LOW). See docs/learning.md.

Examples:
  $ npx ndf stats --store .nd/patterns
  $ npx ndf stats --pattern data_pipeline --json`,
    )
    .action(async (options: { store: string; pattern?: string; json?: boolean }) => {
      let rows: StatsRow[];
      try {
        rows = await collectStats(options.store, options.pattern);
      } catch (error) {
        if (!isPatternError(error)) throw error;
        process.stderr.write(`${pc.red('✖')} ${error.message}\n`);
        process.exitCode = ExitCode.BAD_INPUT;
        return;
      }
      if (options.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else if (rows.length === 0) process.stdout.write(`Nothing learned yet in ${options.store}\n`);
      else process.stdout.write(`${statsTable(rows)}\n`);
      process.exitCode = ExitCode.OK;
    });
}
