import { z } from 'zod';
import type { PatternContext } from '../PatternContext.js';
import { InvalidPatternError, PatternValidationError } from '../../core/errors.js';
import type { SequentialSpec, StepSpec } from '../../core/spec.js';
import type { StepStatus } from '../../core/status.js';
import { parseWith } from '../../core/validate.js';
import { BuiltInPattern, listAttribute } from './BuiltInPattern.js';
import { firstDuplicate, toStepSpecs, type StepLike, type StepOptions } from './stepOptions.js';
import { durationSeconds } from '../../core/duration.js';

const optionsSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    steps: z.array(z.union([z.string().min(1), z.object({ name: z.string() }).loose()])),
    timeoutSeconds: durationSeconds.optional(),
    rollbackEnabled: z.boolean().default(true),
    /** step name → agent id. */
    agentMapping: z.record(z.string(), z.string()).default({}),
    /** Domain patterns it suits (wildcards). */
    domains: z.array(z.string()).default([]),
  })
  .strict();

/** Options of {@link SequentialDelegationPattern}. */
export type SequentialPatternOptions = Omit<z.input<typeof optionsSchema>, 'steps'> & { steps: StepLike[] };

/**
 * Executes steps one after another; on failure (with `rollbackEnabled`) compensates the
 * completed steps in reverse order (a saga). Best for pipelines and validation chains.
 *
 * @example
 * new SequentialDelegationPattern('data_pipeline', 'ETL', ['validate', 'transform', 'store'], 300);
 * new SequentialDelegationPattern({ name: 'etl', steps: [{ name: 'load', retry: { maxAttempts: 3 } }] });
 * @throws PatternValidationError naming the field; InvalidPatternError for duplicate step names
 */
export class SequentialDelegationPattern extends BuiltInPattern {
  readonly kind = 'sequential' as const;
  private steps: StepSpec[];
  readonly rollbackEnabled: boolean;
  private readonly agentMapping: Record<string, string>;

  constructor(options: SequentialPatternOptions);
  constructor(
    name: string,
    description: string,
    steps: StepLike[],
    timeoutSeconds?: number,
    rollbackEnabled?: boolean,
  );
  constructor(
    nameOrOptions: string | SequentialPatternOptions,
    description?: string,
    steps?: StepLike[],
    timeoutSeconds?: number,
    rollbackEnabled?: boolean,
  ) {
    const raw =
      typeof nameOrOptions === 'string'
        ? { name: nameOrOptions, description, steps, timeoutSeconds, rollbackEnabled }
        : nameOrOptions;
    const o = parseWith(optionsSchema, dropUndefined(raw), 'SequentialDelegationPattern');
    super(o.name, o.description, o.domains, o.timeoutSeconds);
    this.rollbackEnabled = o.rollbackEnabled;
    this.agentMapping = o.agentMapping;
    this.steps = toStepSpecs(o.steps, `${o.name}.steps`, o.agentMapping);
    this.checkUnique();
  }

  private checkUnique(): void {
    const dup = firstDuplicate(this.steps.map((s) => s.name));
    if (dup !== undefined) {
      throw new InvalidPatternError(`${this.name}: step "${dup}" appears twice`, {
        patternName: this.name,
        step: dup,
      });
    }
  }

  private find(stepName: string): StepSpec {
    const step = this.steps.find((s) => s.name === stepName);
    if (!step) {
      throw new InvalidPatternError(
        `${this.name}: no step "${stepName}" (steps: ${this.steps.map((s) => s.name).join(', ')})`,
        { patternName: this.name, step: stepName },
      );
    }
    return step;
  }

  /** Step names, in order. */
  get stepNames(): string[] {
    return this.steps.map((s) => s.name);
  }

  /**
   * Adds a step at `position` (0-based; appended when omitted).
   * @throws InvalidPatternError for a duplicate name; PatternValidationError for a bad position
   */
  addStep(step: StepLike, position?: number): void {
    const [spec] = toStepSpecs([step], `${this.name}.addStep`, this.agentMapping);
    if (!spec) return;
    if (
      position !== undefined &&
      !(Number.isInteger(position) && position >= 0 && position <= this.steps.length)
    ) {
      throw new PatternValidationError(
        `${this.name}: position must be an integer in 0..${this.steps.length}`,
        {
          field: 'position',
          patternName: this.name,
        },
      );
    }
    const next = [...this.steps];
    next.splice(position ?? next.length, 0, spec);
    const dup = firstDuplicate(next.map((s) => s.name));
    if (dup !== undefined)
      throw new InvalidPatternError(`${this.name}: step "${dup}" appears twice`, { step: dup });
    this.steps = next;
  }

  /** Removes a step; false if there was none by that name. */
  removeStep(stepName: string): boolean {
    const before = this.steps.length;
    this.steps = this.steps.filter((s) => s.name !== stepName);
    return this.steps.length < before;
  }

  /**
   * Status of a step in the latest run (`pending` before any run).
   * @throws InvalidPatternError for an unknown step
   */
  getStepStatus(stepName: string): StepStatus {
    this.find(stepName);
    return this.statusesOfLastRun()[stepName] ?? 'pending';
  }

  /**
   * Per-attempt timeout of one step.
   * @param timeoutSeconds - seconds, > 0
   */
  setStepTimeout(stepName: string, timeoutSeconds: number): void {
    if (!(timeoutSeconds > 0)) {
      throw new PatternValidationError(`${this.name}: timeout of "${stepName}" must be > 0 seconds`, {
        field: 'timeoutSeconds',
        step: stepName,
      });
    }
    const step = this.find(stepName);
    this.steps = this.steps.map((s) =>
      s === step ? { ...s, timeoutMs: Math.round(timeoutSeconds * 1000) } : s,
    );
  }

  /** Options of one step as stored (for inspection and the CLI's plan). */
  stepSpecs(): readonly StepSpec[] {
    return this.steps;
  }

  toSpec(timeoutMs?: number): SequentialSpec {
    return {
      kind: 'sequential',
      steps: this.steps,
      timeoutMs: this.timeoutSeconds !== undefined ? Math.round(this.timeoutSeconds * 1000) : timeoutMs,
      rollbackEnabled: this.rollbackEnabled,
    };
  }

  protected requirementsMet(context: PatternContext): boolean {
    const required = listAttribute(context, 'required_steps', 'requiredSteps');
    return !required || required.every((r) => this.steps.some((s) => s.name === r));
  }

  protected override configJSON(): unknown {
    return { ...this.toSpec(), domains: this.domains, timeoutSeconds: this.timeoutSeconds };
  }
}

/** Drops undefined fields so zod defaults apply. */
export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export type { StepOptions };
