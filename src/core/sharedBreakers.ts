/**
 * The contract between the runtime's agent pool and a circuit-breaker state shared by the
 * processes of a cluster (implemented over NATS KV by `SharedBreakerBoard`). A leaf: it imports
 * nothing of ours, so the runtime depends on the contract, not on NATS.
 */

/** An agent's shared breaker state, as this process last saw it. */
export interface SharedBreakerState {
  agentId: string;
  state: 'closed' | 'open' | 'halfOpen';
  /** Bumped by every transition; a probe outcome of another generation moves nothing. */
  generation: number;
  /** When the circuit opened, epoch ms (open and halfOpen). */
  openedAt?: number;
  /** Process holding the one half-open probe. */
  probeOwner?: string;
  /** Process that made the last transition. */
  by: string;
}

/** The answer to a request to call an agent: admitted (maybe as the one probe), or refused until `retryAt` (epoch ms). */
export type SharedAdmission =
  | { ok: true; probe: boolean; generation: number }
  | { ok: false; retryAt: number; state: 'open' | 'halfOpen' };

/** A transition seen by this process (made by it or by another). */
export type SharedBreakerListener = (state: SharedBreakerState) => void;

/** What the agent pool needs of a shared breaker state. */
export interface SharedBreakerGate {
  /** This process's name in the cluster. */
  readonly owner: string;
  /** The agent's state from the local copy (closed when never written); no I/O. */
  state(agentId: string): SharedBreakerState;
  /**
   * Whether this process may call the agent now; claims the cluster's one half-open probe when
   * it is due (compare-and-set: one winner).
   * @throws when the shared store cannot be reached (callers fall back to their local breaker)
   */
  admit(agentId: string): Promise<SharedAdmission>;
  /** This process's breaker for the agent opened. */
  recordOpened(agentId: string): Promise<SharedBreakerState>;
  /** Outcome of the probe this process won: success closes the circuit for all, failure reopens it. */
  recordProbe(agentId: string, generation: number, success: boolean): Promise<boolean>;
  /** The probe this process won ended with no outcome (cancelled): the circuit is open again, due at once. */
  releaseProbe(agentId: string, generation: number): Promise<boolean>;
  /** Listens to transitions of every agent. @returns a disposer. */
  onChange(listener: SharedBreakerListener): () => void;
}
