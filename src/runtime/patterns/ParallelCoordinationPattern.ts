import { z } from 'zod';
import { sleep } from '../../core/clock.js';
import type { PatternContext } from '../PatternContext.js';
import { findCycle } from '../../core/dag.js';
import { InvalidPatternError, PatternValidationError } from '../../core/errors.js';
import type { ParallelSpec, StepSpec } from '../../core/spec.js';
import type { TaskStatus } from '../../core/status.js';
import { parseWith } from '../../core/validate.js';
import { BuiltInPattern, listAttribute } from './BuiltInPattern.js';
import { dropUndefined } from './SequentialDelegationPattern.js';
import { firstDuplicate, toStepSpecs, type StepLike } from './stepOptions.js';
import { durationSeconds } from '../../core/duration.js';

const fraction = z.number().min(0).max(1);
const optionsSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    tasks: z.array(z.union([z.string().min(1), z.object({ name: z.string() }).loose()])).default([]),
    maxConcurrent: z.number().int().min(1).default(5),
    /** 0..1: cap on running tasks' summed cpu and memory. */
    resourceThreshold: fraction.default(0.8),
    /** 0..1: fraction of tasks allowed to fail. */
    failureTolerance: fraction.default(0.2),
    rollbackEnabled: z.boolean().default(true),
    timeoutSeconds: durationSeconds.optional(),
    agentMapping: z.record(z.string(), z.string()).default({}),
    domains: z.array(z.string()).default([]),
    /** Named resources this pattern manages (the integration guide's `{"cpu", "memory", "network"}`). */
    resources: z.array(z.string()).default([]),
  })
  .strict();

/** Options of {@link ParallelCoordinationPattern}. */
export type ParallelPatternOptions = Omit<z.input<typeof optionsSchema>, 'tasks'> & { tasks?: StepLike[] };

/**
 * Runs tasks concurrently: a dependency DAG, at most `maxConcurrent` at once, resource
 * requirements kept under `resourceThreshold`, failure isolation (dependents of a failed task
 * are skipped) and a `failureTolerance`.
 *
 * @example
 * const p = new ParallelCoordinationPattern('deploy', 'Deploy services', ['db', 'api', 'web'], 2);
 * p.addTaskDependency('api', 'db');
 * @throws PatternValidationError naming the field; InvalidPatternError for a cycle, an unknown dependency or a task needing more than the threshold
 */
export class ParallelCoordinationPattern extends BuiltInPattern {
  readonly kind = 'parallel' as const;
  private tasks: StepSpec[];
  readonly maxConcurrent: number;
  readonly resourceThreshold: number;
  readonly failureTolerance: number;
  readonly rollbackEnabled: boolean;
  /** Named resources it manages (matching by `required_resources`). */
  readonly resources: readonly string[];
  private readonly agentMapping: Record<string, string>;

  constructor(options: ParallelPatternOptions);
  constructor(
    name: string,
    description: string,
    tasksOrResources: StepLike[] | ReadonlySet<string>,
    maxConcurrent?: number,
    resourceThreshold?: number,
    failureTolerance?: number,
  );
  constructor(
    nameOrOptions: string | ParallelPatternOptions,
    description?: string,
    tasksOrResources?: StepLike[] | ReadonlySet<string>,
    maxConcurrent?: number,
    resourceThreshold?: number,
    failureTolerance?: number,
  ) {
    const raw =
      typeof nameOrOptions === 'string'
        ? {
            name: nameOrOptions,
            description,
            ...(tasksOrResources instanceof Set
              ? { resources: [...tasksOrResources] }
              : { tasks: tasksOrResources }),
            maxConcurrent,
            resourceThreshold,
            failureTolerance,
          }
        : nameOrOptions;
    const o = parseWith(optionsSchema, dropUndefined(raw), 'ParallelCoordinationPattern');
    super(o.name, o.description, o.domains, o.timeoutSeconds);
    this.maxConcurrent = o.maxConcurrent;
    this.resourceThreshold = o.resourceThreshold;
    this.failureTolerance = o.failureTolerance;
    this.rollbackEnabled = o.rollbackEnabled;
    this.resources = o.resources;
    this.agentMapping = o.agentMapping;
    this.tasks = toStepSpecs(o.tasks, `${o.name}.tasks`, o.agentMapping);
    this.validate(this.tasks);
  }

  private validate(tasks: readonly StepSpec[]): void {
    const dup = firstDuplicate(tasks.map((t) => t.name));
    if (dup !== undefined)
      throw new InvalidPatternError(`${this.name}: task "${dup}" appears twice`, { step: dup });
    const names = new Set(tasks.map((t) => t.name));
    for (const t of tasks) {
      const missing = t.dependsOn.find((d) => !names.has(d));
      if (missing !== undefined) {
        throw new InvalidPatternError(`${this.name}: task "${t.name}" depends on unknown task "${missing}"`, {
          patternName: this.name,
          step: t.name,
        });
      }
      const r = t.resources;
      if (r && (r.cpu > this.resourceThreshold || r.memory > this.resourceThreshold)) {
        throw new InvalidPatternError(
          `${this.name}: task "${t.name}" needs cpu ${r.cpu} / memory ${r.memory}, above resourceThreshold ${this.resourceThreshold}; it could never run`,
          { patternName: this.name, step: t.name },
        );
      }
    }
    const cycle = findCycle(tasks);
    if (cycle) {
      throw new InvalidPatternError(`${this.name}: dependency cycle ${cycle.join(' -> ')}`, {
        patternName: this.name,
        cycle,
      });
    }
  }

  private find(task: string): StepSpec {
    const t = this.tasks.find((s) => s.name === task);
    if (!t) {
      throw new InvalidPatternError(`${this.name}: no task "${task}" (tasks: ${this.taskNames.join(', ')})`, {
        patternName: this.name,
        step: task,
      });
    }
    return t;
  }

  get taskNames(): string[] {
    return this.tasks.map((t) => t.name);
  }

  /** Adds a task (its dependencies must exist). */
  addTask(task: StepLike): void {
    const next = [...this.tasks, ...toStepSpecs([task], `${this.name}.addTask`, this.agentMapping)];
    this.validate(next);
    this.tasks = next;
  }

  /**
   * `task` waits for `dependsOn` to complete.
   * @throws InvalidPatternError for unknown tasks or when it would create a cycle (the pattern is unchanged)
   */
  addTaskDependency(task: string, dependsOn: string): void {
    this.find(task);
    this.find(dependsOn);
    const next = this.tasks.map((t) =>
      t.name === task && !t.dependsOn.includes(dependsOn)
        ? { ...t, dependsOn: [...t.dependsOn, dependsOn] }
        : t,
    );
    this.validate(next);
    this.tasks = next;
  }

  /**
   * @param cpu - 0..1 of the machine's CPU
   * @param memory - 0..1 of its memory
   */
  setTaskResourceRequirement(task: string, cpu: number, memory: number): void {
    const parsed = fraction.safeParse(cpu).success && fraction.safeParse(memory).success;
    if (!parsed) {
      throw new PatternValidationError(`${this.name}: cpu and memory of "${task}" must be within 0..1`, {
        field: 'resources',
        step: task,
      });
    }
    const t = this.find(task);
    const next = this.tasks.map((s) => (s === t ? { ...s, resources: { cpu, memory } } : s));
    this.validate(next);
    this.tasks = next;
  }

  /** Status of every task in the latest run (`pending` before any run). */
  getTaskStatusAll(): Record<string, TaskStatus> {
    const last = this.statusesOfLastRun();
    return Object.fromEntries(this.tasks.map((t) => [t.name, last[t.name] ?? 'pending']));
  }

  /**
   * Waits for the latest run to end.
   * @param timeoutSeconds - give up after this many seconds of the executor's clock (resolves false)
   * @returns true if it succeeded; false if it failed, timed out, or never ran
   */
  async waitForCompletion(timeoutSeconds?: number): Promise<boolean> {
    if (!this.lastRun) return false;
    const { done, clock } = this.lastRun;
    const success = done.then((r) => r.success);
    if (timeoutSeconds === undefined) return success;
    const stop = new AbortController();
    const timeout = sleep(clock, timeoutSeconds * 1000, stop.signal).then(() => false);
    try {
      return await Promise.race([success, timeout]);
    } finally {
      stop.abort();
    }
  }

  taskSpecs(): readonly StepSpec[] {
    return this.tasks;
  }

  toSpec(timeoutMs?: number): ParallelSpec {
    return {
      kind: 'parallel',
      tasks: this.tasks,
      maxConcurrent: this.maxConcurrent,
      resourceThreshold: this.resourceThreshold,
      failureTolerance: this.failureTolerance,
      rollbackEnabled: this.rollbackEnabled,
      timeoutMs: this.timeoutSeconds !== undefined ? Math.round(this.timeoutSeconds * 1000) : timeoutMs,
    };
  }

  protected requirementsMet(context: PatternContext): boolean {
    const required = listAttribute(context, 'required_resources', 'requiredResources');
    return !required || required.every((r) => this.resources.includes(r));
  }

  protected override configJSON(): unknown {
    return {
      ...this.toSpec(),
      domains: this.domains,
      resources: this.resources,
      timeoutSeconds: this.timeoutSeconds,
    };
  }
}
