import { defaultLogger } from '../../core/logger.js';
import type { AnyActor } from 'xstate';
import type { ChildPattern, OrchestrationContext } from '../../machines/orchestration.machine.js';
import type { PatternRegistry } from '../PatternRegistry.js';
import { BuiltInPattern } from '../patterns/BuiltInPattern.js';
import type { DelegationPattern } from '../patterns/DelegationPattern.js';
import type { SharedPatternOutcome } from '../../core/sharedLearning.js';

/** Retention is applied at most once per this many ms of the run clock, per registry. */
const RETENTION_EVERY_MS = 60_000;
const lastRetention = new WeakMap<PatternRegistry, number>();

/** What a finished run teaches: its outcome and, for a meta run, each child pattern's. */
export interface RunOutcome {
  readonly pattern: DelegationPattern;
  readonly kind: ChildPattern['kind'];
  readonly domain: string;
  readonly success: boolean;
  /** Wall time of the run, ms. */
  readonly durationMs: number;
  readonly actor: AnyActor;
  /** Resource figures measured over the run (the pattern's own; children of a meta run get none). */
  readonly measured?: { readonly cpuMs: number; readonly peakRssBytes: number } | undefined;
}

/**
 * Records outcomes for learning: the pattern's, and for a meta run each child pattern's.
 * Custom patterns record themselves. `at` is epoch ms. Then applies the retention and calls the
 * registry's monitoring callback (an error it throws goes to `onMonitorError`). Every outcome
 * recorded is also handed to `share` (a cluster's shared learning).
 */
export function learnFromRun(
  registry: PatternRegistry,
  outcome: RunOutcome,
  at: number,
  onMonitorError?: (error: unknown) => void,
  share?: (outcome: SharedPatternOutcome) => void,
): void {
  const { pattern, kind, domain, success, durationMs, actor, measured } = outcome;
  if (!(pattern instanceof BuiltInPattern)) return;
  pattern.recordExecution(success, domain, durationMs, at, measured);
  share?.({ kind: 'pattern', pattern: pattern.name, domain, success, durationMs, at });
  if (at - (lastRetention.get(registry) ?? -Infinity) >= RETENTION_EVERY_MS) {
    lastRetention.set(registry, at);
    registry.applyRetention(at);
  }
  try {
    registry.notifyExecution(pattern, durationMs);
  } catch (error) {
    if (onMonitorError) onMonitorError(error);
    else defaultLogger().warn({ err: error, pattern: pattern.name }, 'monitoring callback threw');
  }
  if (kind !== 'orchestration') return;
  const context = (actor.getSnapshot() as { context: OrchestrationContext }).context;
  for (const o of context.phases.flatMap((p) => p.outcomes)) {
    const p = registry.has(o.name) ? registry.getPattern(o.name) : undefined;
    if (!(p instanceof BuiltInPattern)) continue;
    p.recordExecution(o.success, domain, o.durationMs, at);
    share?.({ kind: 'pattern', pattern: o.name, domain, success: o.success, durationMs: o.durationMs, at });
  }
}
