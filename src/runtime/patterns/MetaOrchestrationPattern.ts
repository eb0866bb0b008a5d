import { z } from 'zod';
import type { PatternContext } from '../PatternContext.js';
import { InvalidPatternError, PatternExecutionError } from '../../core/errors.js';
import type { MetaSpec, PhaseSpec, RollbackStrategy, SuccessCriteria } from '../../core/spec.js';
import { parseWith } from '../../core/validate.js';
import { BuiltInPattern, listAttribute, type PhaseProgress } from './BuiltInPattern.js';
import { dropUndefined } from './SequentialDelegationPattern.js';
import { firstDuplicate } from './stepOptions.js';
import { durationSeconds } from '../../core/duration.js';

const fraction = z.number().min(0).max(1);
/** Success criteria; the reference's snake_case keys are accepted too. */
export const successCriteriaSchema = z
  .object({
    minSuccessRate: fraction.optional(),
    min_success_rate: fraction.optional(),
    maxErrorCount: z.number().int().min(0).optional(),
    max_error_count: z.number().int().min(0).optional(),
    /** ms. */
    responseTimeThresholdMs: z.number().positive().optional(),
    /** ms (the reference's name). */
    response_time_threshold: z.number().positive().optional(),
  })
  .strict()
  .transform((c): SuccessCriteria => ({
    minSuccessRate: c.minSuccessRate ?? c.min_success_rate,
    maxErrorCount: c.maxErrorCount ?? c.max_error_count,
    responseTimeThresholdMs: c.responseTimeThresholdMs ?? c.response_time_threshold,
  }));

/**
 * A phase's cap on the declared cpu / memory (0..1 each) of every pattern it runs: a parallel
 * pattern's running tasks stay within it, as within their own `resourceThreshold`.
 */
const allocationSchema = z
  .object({ cpu: z.number().min(0).max(1).optional(), memory: z.number().min(0).max(1).optional() })
  .strict();

const phaseSchema = z
  .object({
    name: z.string().min(1),
    patterns: z.array(z.string().min(1)).min(1),
    coordination: z.enum(['sequential', 'parallel']).default('sequential'),
    successCriteria: successCriteriaSchema.optional(),
    success_criteria: successCriteriaSchema.optional(),
    resourceAllocation: allocationSchema.optional(),
    resource_allocation: allocationSchema.optional(),
  })
  .strict()
  .transform((p): PhaseSpec => ({
    name: p.name,
    patterns: p.patterns,
    coordination: p.coordination,
    successCriteria: p.successCriteria ?? p.success_criteria ?? {},
    resourceAllocation: p.resourceAllocation ?? p.resource_allocation,
  }));

const rollbackSchema = z.enum(['pattern_level', 'phase_level', 'complete']);
const strategySchema = z
  .object({
    phases: z.array(phaseSchema).default([]),
    rollbackStrategy: rollbackSchema.optional(),
    rollback_strategy: rollbackSchema.optional(),
  })
  .strict()
  .transform((s) => ({
    phases: s.phases,
    rollbackStrategy: s.rollbackStrategy ?? s.rollback_strategy ?? 'phase_level',
  }));

const optionsSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    strategy: strategySchema.default({ phases: [], rollbackStrategy: 'phase_level' }),
    /** Minimum context complexity (1..10) for {@link MetaOrchestrationPattern.matches}. */
    complexityThreshold: z.number().min(0).default(5),
    timeoutSeconds: durationSeconds.optional(),
    domains: z.array(z.string()).default([]),
    /** Domains it coordinates (the integration guide's `{"auth", "data"}`), matched by `required_domains`. */
    coordinatedDomains: z.array(z.string()).default([]),
  })
  .strict();

export type MetaPatternOptions = z.input<typeof optionsSchema>;
export type MetaStrategy = z.input<typeof strategySchema>;

const COMPLEXITY_WORDS: Record<string, number> = {
  trivial: 1,
  low: 2,
  simple: 2,
  medium: 5,
  high: 7,
  enterprise: 9,
  critical: 10,
};

/** Complexity of a context, 1..10, from `attributes.complexity` (a number or a word); undefined if absent. */
export function contextComplexity(context: PatternContext): number | undefined {
  const c = context.attributes['complexity'];
  if (typeof c === 'number') return c;
  if (typeof c === 'string') return COMPLEXITY_WORDS[c.toLowerCase()];
  return undefined;
}

/**
 * Orchestrates registered patterns in phases (sequential or parallel coordination), with
 * per-phase success criteria and a rollback strategy (`pattern_level`, `phase_level`,
 * `complete`).
 *
 * @example
 * new MetaOrchestrationPattern('migration', 'Migrate', {
 *   phases: [{ name: 'prep', patterns: ['backup'], coordination: 'sequential', success_criteria: { min_success_rate: 1 } }],
 *   rollback_strategy: 'phase_level',
 * });
 * @throws PatternValidationError naming the field; InvalidPatternError for duplicate phases or patterns
 */
export class MetaOrchestrationPattern extends BuiltInPattern {
  readonly kind = 'meta' as const;
  private phases: PhaseSpec[];
  readonly rollbackStrategy: RollbackStrategy;
  readonly complexityThreshold: number;
  readonly coordinatedDomains: readonly string[];

  constructor(options: MetaPatternOptions);
  constructor(
    name: string,
    description: string,
    strategy: MetaStrategy | ReadonlySet<string>,
    complexityThreshold?: number,
  );
  constructor(
    nameOrOptions: string | MetaPatternOptions,
    description?: string,
    strategy?: MetaStrategy | ReadonlySet<string>,
    complexityThreshold?: number,
  ) {
    const raw =
      typeof nameOrOptions === 'string'
        ? {
            name: nameOrOptions,
            description,
            ...(strategy instanceof Set ? { coordinatedDomains: [...strategy] } : { strategy }),
            complexityThreshold,
          }
        : nameOrOptions;
    const o = parseWith(optionsSchema, dropUndefined(raw), 'MetaOrchestrationPattern');
    super(o.name, o.description, o.domains, o.timeoutSeconds);
    this.rollbackStrategy = o.strategy.rollbackStrategy;
    this.complexityThreshold = o.complexityThreshold;
    this.coordinatedDomains = o.coordinatedDomains;
    this.phases = o.strategy.phases;
    this.validate(this.phases);
  }

  private validate(phases: readonly PhaseSpec[]): void {
    const dupPhase = firstDuplicate(phases.map((p) => p.name));
    if (dupPhase !== undefined)
      throw new InvalidPatternError(`${this.name}: phase "${dupPhase}" appears twice`, {
        patternName: this.name,
      });
    const dupPattern = firstDuplicate(phases.flatMap((p) => p.patterns));
    if (dupPattern !== undefined) {
      throw new InvalidPatternError(
        `${this.name}: pattern "${dupPattern}" appears in more than one place; each may run once per orchestration`,
        {
          patternName: this.name,
        },
      );
    }
    if (phases.some((p) => p.patterns.includes(this.name))) {
      throw new InvalidPatternError(`${this.name}: a meta-orchestration cannot include itself`, {
        patternName: this.name,
        cycle: [this.name, this.name],
      });
    }
  }

  private findPhase(name: string): PhaseSpec {
    const phase = this.phases.find((p) => p.name === name);
    if (!phase) {
      throw new InvalidPatternError(
        `${this.name}: no phase "${name}" (phases: ${this.phaseNames.join(', ')})`,
        { patternName: this.name },
      );
    }
    return phase;
  }

  get phaseNames(): string[] {
    return this.phases.map((p) => p.name);
  }

  phaseSpecs(): readonly PhaseSpec[] {
    return this.phases;
  }

  /** Appends a phase. */
  addPhase(
    phaseName: string,
    patterns: string[],
    coordination: 'sequential' | 'parallel' = 'sequential',
  ): void {
    const phase = parseWith(
      phaseSchema,
      { name: phaseName, patterns, coordination },
      `${this.name}.addPhase`,
    );
    const next = [...this.phases, phase];
    this.validate(next);
    this.phases = next;
  }

  /** Sets a phase's success criteria (`min_success_rate` 0..1, `max_error_count`, `response_time_threshold` ms). */
  setPhaseSuccessCriteria(phaseName: string, criteria: z.input<typeof successCriteriaSchema>): void {
    const phase = this.findPhase(phaseName);
    const parsed = parseWith(successCriteriaSchema, criteria, `${this.name}.${phaseName}.successCriteria`);
    this.phases = this.phases.map((p) => (p === phase ? { ...p, successCriteria: parsed } : p));
  }

  /** Progress of every phase in the latest run (all `pending` before any run). */
  getPhaseProgress(): Record<string, PhaseProgress> {
    const live = this.lastRun?.phaseProgress?.() ?? {};
    return Object.fromEntries(
      this.phases.map((p) => [
        p.name,
        live[p.name] ?? {
          status: 'pending',
          completionPercentage: 0,
          succeeded: 0,
          failed: 0,
          total: p.patterns.length,
        },
      ]),
    );
  }

  /**
   * Compensates work of the latest (succeeded) run: `pattern` the last pattern, `phase` the
   * last phase (or every phase after `targetPhase`), `complete` everything.
   * @returns true if every compensation succeeded
   * @throws PatternExecutionError when there is no succeeded run to roll back
   */
  async triggerRollback(
    rollbackLevel: 'pattern' | 'phase' | 'complete' = 'phase',
    targetPhase?: string,
  ): Promise<boolean> {
    if (targetPhase !== undefined) this.findPhase(targetPhase);
    const run = this.lastRun;
    if (!run?.rollback) {
      throw new PatternExecutionError(`${this.name}: no succeeded run to roll back`, {
        patternName: this.name,
      });
    }
    return run.rollback(rollbackLevel, targetPhase);
  }

  toSpec(timeoutMs?: number): MetaSpec {
    return {
      kind: 'meta',
      phases: this.phases,
      rollbackStrategy: this.rollbackStrategy,
      complexityThreshold: this.complexityThreshold,
      timeoutMs: this.timeoutSeconds !== undefined ? Math.round(this.timeoutSeconds * 1000) : timeoutMs,
    };
  }

  protected requirementsMet(context: PatternContext): boolean {
    const required = listAttribute(context, 'required_domains', 'requiredDomains');
    if (required && !required.every((d) => this.coordinatedDomains.includes(d))) return false;
    const complexity = contextComplexity(context);
    return complexity === undefined || complexity >= this.complexityThreshold;
  }

  protected override configJSON(): unknown {
    return {
      ...this.toSpec(),
      domains: this.domains,
      coordinatedDomains: this.coordinatedDomains,
      timeoutSeconds: this.timeoutSeconds,
    };
  }
}
