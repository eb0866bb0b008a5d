import type { Clock } from '../../core/clock.js';
import type { PatternContext } from '../PatternContext.js';
import { PatternExecutionError, PatternValidationError } from '../../core/errors.js';
import type { RunResult } from '../../core/result.js';
import type { PatternSpec } from '../../core/spec.js';
import type { StepStatus } from '../../core/status.js';
import { DelegationPattern } from './DelegationPattern.js';

/** What a built-in pattern needs from the executor that runs it. */
export interface PatternRunner {
  execute(patternName: string, context: PatternContext, timeoutSeconds?: number): Promise<boolean>;
}

/** The live view of a pattern's latest run, attached by the executor. */
export interface RunView {
  readonly runId: string;
  /** Step statuses of this pattern in that run. */
  statuses(): Record<string, StepStatus>;
  /** Settles with the run's result. */
  readonly done: Promise<RunResult>;
  /** The executor's clock (waits are measured on it). */
  readonly clock: Clock;
  /** Meta-orchestration only: phase progress of the run. */
  phaseProgress?(): Record<string, PhaseProgress>;
  /** Meta-orchestration only: compensates part or all of a succeeded run. */
  rollback?(level: 'pattern' | 'phase' | 'complete', targetPhase?: string): Promise<boolean>;
}

/** Progress of one phase of a meta-orchestration run. */
export interface PhaseProgress {
  readonly status: 'pending' | 'running' | 'succeeded' | 'failed' | 'rolledBack';
  /** Settled patterns / patterns in the phase, 0..1. */
  readonly completionPercentage: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly total: number;
}

/** Agent types that name a pattern kind (the integration guide's `agent_type="sequential"`…). */
const KIND_WORDS: Partial<Record<string, PatternSpec['kind']>> = {
  sequential: 'sequential',
  parallel: 'parallel',
  orchestrator: 'meta',
  meta: 'meta',
};

/** Reads `attributes[snake]` or `attributes[camel]` as a string list. */
export function listAttribute(context: PatternContext, snake: string, camel: string): string[] | undefined {
  const value = context.attributes[snake] ?? context.attributes[camel];
  return Array.isArray(value) ? value.map(String) : undefined;
}

/**
 * Common ground of the built-in patterns: they are run by a PatternExecutor (which binds
 * itself on registration), expose the statuses of their latest run, and match contexts by
 * domain wildcards plus the integration guide's `required_*` attributes.
 */
export abstract class BuiltInPattern extends DelegationPattern {
  /** Which machine runs it. */
  abstract readonly kind: PatternSpec['kind'];
  /** Domain patterns (wildcards allowed) it is meant for; empty = any. */
  readonly domains: readonly string[];
  /** Overall timeout, s; undefined = the executor's default. */
  timeoutSeconds: number | undefined;
  private runner: PatternRunner | undefined;
  protected lastRun: RunView | undefined;

  constructor(
    name: string,
    description: string,
    domains: readonly string[],
    timeoutSeconds: number | undefined,
  ) {
    super(name, description);
    if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) {
      throw new PatternValidationError(`${name}: timeoutSeconds must be > 0, got ${timeoutSeconds}`, {
        field: 'timeoutSeconds',
        patternName: name,
      });
    }
    this.domains = domains;
    this.timeoutSeconds = timeoutSeconds;
  }

  /** The specification its machine runs. */
  abstract toSpec(timeoutMs?: number): PatternSpec;

  /** Called by PatternExecutor when it registers or runs the pattern. */
  bindRunner(runner: PatternRunner): void {
    this.runner = runner;
  }

  /** Called by PatternExecutor at the start of each run. */
  attachRun(view: RunView): void {
    this.lastRun = view;
  }

  /**
   * Runs it through the executor it is bound to.
   * @throws PatternExecutionError when no executor has registered it
   */
  async execute(context: PatternContext): Promise<boolean> {
    if (!this.runner) {
      throw new PatternExecutionError(
        `Pattern "${this.name}" is not bound to a PatternExecutor: register it in the executor's registry and call executor.execute("${this.name}", context)`,
        { patternName: this.name },
      );
    }
    return this.runner.execute(this.name, context, this.timeoutSeconds);
  }

  /** Domains match (or none declared) and the context's required items are all present. */
  matches(context: PatternContext): boolean {
    const kindWord = KIND_WORDS[context.agentType];
    if (kindWord !== undefined && kindWord !== this.kind) return false;
    const domainOk = this.domains.length === 0 || this.domains.some((d) => context.matchesDomain(d));
    return domainOk && this.requirementsMet(context);
  }

  /** Type-specific part of {@link matches}. */
  protected abstract requirementsMet(context: PatternContext): boolean;

  protected statusesOfLastRun(): Record<string, StepStatus> {
    return this.lastRun?.statuses() ?? {};
  }
}
