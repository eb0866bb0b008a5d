import type { Agent } from '../core/agent.js';
import type { CancellationSignal } from '../core/cancellation.js';
import { CircuitBreaker, type BreakerOptionsInput, type BreakerStateChange } from './CircuitBreaker.js';
import type { Clock } from '../core/clock.js';
import type { ListenerErrorLog } from '../core/listeners.js';
import { CircuitOpenError, NoCapableAgentError, PatternValidationError } from '../core/errors.js';
import { Semaphore } from '../core/semaphore.js';
import type { StepSpec } from '../core/spec.js';

/** An agent granted to one attempt: its breaker permit and a concurrency slot. Report exactly once. */
export interface AgentLease {
  readonly agent: Agent;
  /** The attempt succeeded after `durationMs`. */
  succeed(durationMs: number): void;
  /** The attempt failed (or timed out): counts toward the agent's breaker. */
  fail(): void;
  /** The attempt ended with no outcome (cancelled). */
  release(): void;
}

interface Entry {
  readonly agent: Agent;
  readonly slots: Semaphore;
  readonly breaker: CircuitBreaker;
}

export interface AgentPoolOptions {
  readonly clock: Clock;
  /** Breaker options for every agent unless registered with its own. */
  readonly breaker?: BreakerOptionsInput | undefined;
  /** Where breaker listener errors are logged (default: the library's logger). */
  readonly log?: ListenerErrorLog | undefined;
  readonly onBreakerChange?: ((change: BreakerStateChange) => void) | undefined;
}

/**
 * The agents a runtime delegates to: capability index, one circuit breaker and one
 * concurrency limit (`maxConcurrent` slots, FIFO) per agent. Routing: among the agents able to
 * perform a step (the mapped agent, or every agent with the capability), the least loaded
 * whose breaker admits the call; if every breaker is open, fail fast with CircuitOpenError.
 */
export class AgentPool {
  private readonly entries = new Map<string, Entry>();
  private readonly byCapability = new Map<string, Entry[]>();

  constructor(private readonly options: AgentPoolOptions) {}

  /**
   * @throws PatternValidationError when an agent with the same id is registered
   */
  register(agent: Agent, breaker?: BreakerOptionsInput): void {
    if (this.entries.has(agent.id)) {
      throw new PatternValidationError(`Agent "${agent.id}" is already registered`, {
        field: 'agent.id',
        agentId: agent.id,
      });
    }
    const entry: Entry = {
      agent,
      slots: new Semaphore(agent.maxConcurrent),
      breaker: new CircuitBreaker(
        agent.id,
        breaker ?? this.options.breaker,
        this.options.clock,
        this.options.log,
      ),
    };
    const listener = this.options.onBreakerChange;
    if (listener) entry.breaker.onStateChange(listener);
    this.entries.set(agent.id, entry);
    for (const capability of agent.capabilities) {
      const list = this.byCapability.get(capability) ?? [];
      list.push(entry);
      this.byCapability.set(capability, list);
    }
  }

  get(id: string): Agent | undefined {
    return this.entries.get(id)?.agent;
  }

  list(): Agent[] {
    return [...this.entries.values()].map((e) => e.agent);
  }

  /** Every capability some agent has, sorted. */
  capabilities(): string[] {
    return [...this.byCapability.keys()].sort();
  }

  breaker(id: string): CircuitBreaker | undefined {
    return this.entries.get(id)?.breaker;
  }

  /** Whether some registered agent can perform the step (for validation before a run). */
  canPerform(spec: Pick<StepSpec, 'agent' | 'capability'>): boolean {
    return spec.agent !== undefined ? this.entries.has(spec.agent) : this.byCapability.has(spec.capability);
  }

  /**
   * Checks before a run that some agent can perform the step.
   * @throws NoCapableAgentError naming the step and the capabilities that exist
   */
  check(spec: StepSpec, path: readonly string[]): void {
    this.candidates(spec, path);
  }

  private candidates(spec: StepSpec, path: readonly string[]): Entry[] {
    if (spec.agent !== undefined) {
      const entry = this.entries.get(spec.agent);
      if (entry) return [entry];
      throw new NoCapableAgentError(
        `Step "${spec.name}" of "${path.join('/')}" is mapped to agent "${spec.agent}", which is not registered (agents: ${
          [...this.entries.keys()].join(', ') || 'none'
        })`,
        { step: spec.name, agentId: spec.agent, capabilities: this.capabilities(), retryable: false },
      );
    }
    const list = this.byCapability.get(spec.capability);
    if (list && list.length > 0) return list;
    throw new NoCapableAgentError(
      `No agent can perform step "${spec.name}" of "${path.join('/')}": it needs capability "${spec.capability}"; capabilities available: ${
        this.capabilities().join(', ') || 'none (no agents registered)'
      }`,
      { step: spec.name, capabilities: this.capabilities(), retryable: false },
    );
  }

  /**
   * Picks an agent for one attempt of `spec` and waits for one of its slots (`cancel` aborts
   * the wait).
   * @throws NoCapableAgentError when no registered agent can perform the step
   * @throws CircuitOpenError naming the agent(s) and `retryAt` (epoch ms) when every capable agent's breaker is open
   */
  acquire(spec: StepSpec, path: readonly string[], cancel?: CancellationSignal): Promise<AgentLease> {
    let candidates: Entry[];
    try {
      candidates = this.candidates(spec, path);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const ordered =
      candidates.length === 1
        ? candidates
        : [...candidates].sort(
            (a, b) =>
              (a.slots.active + a.slots.waiting) / a.agent.maxConcurrent -
              (b.slots.active + b.slots.waiting) / b.agent.maxConcurrent,
          );
    let retryAt = Infinity;
    for (const entry of ordered) {
      const permit = entry.breaker.tryAcquire();
      if (!permit.ok) {
        retryAt = Math.min(retryAt, permit.retryAt);
        continue;
      }
      if (entry.slots.tryAcquire()) return Promise.resolve(new Lease(entry));
      return entry.slots.acquire(cancel).then(
        () => new Lease(entry),
        (error: unknown) => {
          entry.breaker.release();
          throw error;
        },
      );
    }
    const names = ordered.map((e) => e.agent.id);
    return Promise.reject(
      new CircuitOpenError(
        `Circuit open for ${names.length === 1 ? 'agent' : 'agents'} ${names.map((n) => `"${n}"`).join(', ')} (step "${spec.name}"); next retry at ${new Date(retryAt).toISOString()}`,
        { agentId: names[0], step: spec.name, retryAt, retryable: true },
      ),
    );
  }

  /** A slot on a specific agent with no breaker check (compensations must run). */
  async acquireDirect(
    agentId: string,
    signal?: CancellationSignal,
  ): Promise<{ agent: Agent; release(): void } | undefined> {
    const entry = this.entries.get(agentId);
    if (!entry) return undefined;
    await entry.slots.acquire(signal);
    return { agent: entry.agent, release: () => entry.slots.release() };
  }

  /** Stops breakers and closes every agent. */
  async close(): Promise<void> {
    for (const e of this.entries.values()) e.breaker.stop();
    await Promise.allSettled([...this.entries.values()].map((e) => Promise.resolve(e.agent.close?.())));
  }
}

/** One attempt's hold on an agent (a class, not closures: thousands may be parked at once). */
class Lease implements AgentLease {
  private done = false;

  constructor(private readonly entry: Entry) {}

  get agent(): Agent {
    return this.entry.agent;
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.entry.slots.release();
    return true;
  }

  succeed(durationMs: number): void {
    if (this.finish()) this.entry.breaker.recordSuccess(durationMs);
  }

  fail(): void {
    if (this.finish()) this.entry.breaker.recordFailure();
  }

  release(): void {
    if (this.finish()) this.entry.breaker.release();
  }
}
