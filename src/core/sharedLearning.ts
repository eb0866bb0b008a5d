/**
 * The contract between an executor and a learning state shared by the processes of a cluster
 * (implemented over a JetStream stream by `SharedLearningFeed`): every outcome an executor learns
 * from is published, and the outcomes published by the others are recorded as if seen here. A
 * leaf: it imports nothing of ours.
 */

/** The context cell an agent outcome was seen in (a run's domain and agent type). */
export interface SharedCell {
  readonly domain: string;
  readonly agentType: string;
  readonly attributes?: Readonly<Record<string, unknown>> | undefined;
}

/** An attempt's outcome on an agent chosen for a capability (learned agent selection). */
export interface SharedAgentOutcome {
  readonly kind: 'agent';
  readonly capability: string;
  readonly agent: string;
  /** When it ended, epoch ms. */
  readonly at: number;
  readonly success: boolean;
  /** From acquisition to outcome, ms. */
  readonly latencyMs: number;
  readonly context?: SharedCell | undefined;
}

/** A finished run of a built-in pattern (pattern selection and confidence). */
export interface SharedPatternOutcome {
  readonly kind: 'pattern';
  readonly pattern: string;
  readonly domain?: string | undefined;
  readonly success: boolean;
  /** Wall time of the run, ms. */
  readonly durationMs: number;
  /** When it ended, epoch ms. */
  readonly at: number;
}

/** One outcome learned from. */
export type SharedOutcome = SharedAgentOutcome | SharedPatternOutcome;

/** What an executor needs of a shared learning state. */
export interface SharedLearningGate {
  /** Shares an outcome this process learned from (fire and forget: a failure is logged, not thrown). */
  publish(outcome: SharedOutcome): void;
  /**
   * Listens to the outcomes of the other processes (never this process's own). The first
   * listener also receives, synchronously, the retained history loaded when the feed opened.
   * @returns a disposer
   */
  onOutcome(listener: (outcome: SharedOutcome) => void): () => void;
}
