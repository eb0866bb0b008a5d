import type { Agent } from '../core/agent.js';
import type { CancellationSignal } from '../core/cancellation.js';
import { CircuitBreaker, type BreakerOptionsInput, type BreakerStateChange } from './CircuitBreaker.js';
import type { Clock } from '../core/clock.js';
import type { ListenerErrorLog } from '../core/listeners.js';
import {
  CircuitOpenError,
  ErrorCode,
  NoCapableAgentError,
  PatternValidationError,
  isPatternError,
} from '../core/errors.js';
import { Semaphore } from '../core/semaphore.js';
import type { StepSpec } from '../core/spec.js';

/**
 * Whether an attempt's error is the agent's fault, so that it counts toward the agent's breaker. Not
 * an agent fault: the caller's bad input (`ND_PATTERN_VALIDATION`, e.g. a request over the size limit
 * or a remote agent refusing the task's input) and a call lost with the transport's connection
 * (`details.connectionLost`): neither says anything about the agent's health.
 */
export function isAgentFault(error: unknown): boolean {
  if (!isPatternError(error)) return true;
  if (error.code === ErrorCode.PATTERN_VALIDATION) return false;
  return error.details.connectionLost !== true;
}

/** An agent granted to one attempt: its breaker permit and a concurrency slot. Report exactly once. */
export interface AgentLease {
  readonly agent: Agent;
  /** The attempt succeeded after `durationMs`. */
  succeed(durationMs: number): void;
  /**
   * The attempt failed (or timed out). It counts toward the agent's breaker when `error` is absent
   * or an agent fault ({@link isAgentFault}); otherwise it ends with no outcome, as {@link release}.
   */
  fail(error?: unknown): void;
  /** The attempt ended with no outcome (cancelled). */
  release(): void;
}

interface Entry {
  readonly agent: Agent;
  readonly slots: Semaphore;
  readonly breaker: CircuitBreaker;
  /** Acquisitions waiting for this breaker to admit again: woken whenever one of its leases ends. */
  readonly waiters: Set<() => void>;
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
      waiters: new Set(),
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
   * the wait). When every capable agent's breaker refuses and the earliest time one admits again
   * (`retryAt`) is before `waitUntil` (epoch ms, the attempt's deadline), it waits for that instead
   * of failing: until the recovery timeout ends, or until a probe in flight reports, then tries again.
   * @throws NoCapableAgentError when no registered agent can perform the step
   * @throws CircuitOpenError naming the agent(s) and `retryAt` (epoch ms) when every capable agent's
   *   breaker is open and will not admit a call before `waitUntil` (or no `waitUntil` was given)
   * @throws (rejects with) `cancel.reason` when cancelled while waiting
   */
  acquire(
    spec: StepSpec,
    path: readonly string[],
    cancel?: CancellationSignal,
    waitUntil?: number,
  ): Promise<AgentLease> {
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
      const { generation } = permit;
      if (entry.slots.tryAcquire()) return Promise.resolve(new Lease(entry, generation));
      return entry.slots.acquire(cancel).then(
        () => new Lease(entry, generation),
        (error: unknown) => {
          entry.breaker.release(generation);
          throw error;
        },
      );
    }
    const now = this.options.clock.now();
    if (waitUntil !== undefined && now < waitUntil && retryAt <= waitUntil && !cancel?.aborted) {
      return this.waitForBreakers(ordered, retryAt, waitUntil, cancel).then(() =>
        this.acquire(spec, path, cancel, waitUntil),
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

  /**
   * Resolves at `retryAt` (when later than now), when a lease of one of `entries` ends (a probe
   * reported: its slot is free or the state changed), or at `waitUntil`, whichever comes first.
   * @throws (rejects with) the cancellation's reason when `cancel` aborts first
   */
  private waitForBreakers(
    entries: readonly Entry[],
    retryAt: number,
    waitUntil: number,
    cancel: CancellationSignal | undefined,
  ): Promise<void> {
    const { clock } = this.options;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clock.clearTimeout(timer);
        for (const e of entries) e.waiters.delete(wake);
        cancel?.removeEventListener('abort', onAbort);
        if (error) reject(error);
        else resolve();
      };
      const wake = () => done();
      const onAbort = () =>
        done(
          cancel?.reason instanceof Error
            ? cancel.reason
            : new Error('cancelled while waiting for a breaker'),
        );
      const now = clock.now();
      const at = retryAt > now ? Math.min(retryAt, waitUntil) : waitUntil;
      const timer = clock.setTimeout(wake, Math.max(0, at - now));
      for (const e of entries) e.waiters.add(wake);
      cancel?.addEventListener('abort', onAbort, { once: true });
    });
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

/**
 * One attempt's hold on an agent (a class, not closures: thousands may be parked at once). Its
 * outcome is reported with the breaker generation it was admitted in, so a late answer cannot move a
 * breaker that changed state meanwhile.
 */
class Lease implements AgentLease {
  private done = false;

  constructor(
    private readonly entry: Entry,
    private readonly generation: number,
  ) {}

  get agent(): Agent {
    return this.entry.agent;
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.entry.slots.release();
    return true;
  }

  /** Wakes the acquisitions waiting for this breaker (after the outcome is reported). */
  private wake(): void {
    const { waiters } = this.entry;
    if (waiters.size === 0) return;
    for (const w of [...waiters]) w();
  }

  succeed(durationMs: number): void {
    if (!this.finish()) return;
    this.entry.breaker.recordSuccess(durationMs, this.generation);
    this.wake();
  }

  fail(error?: unknown): void {
    if (!this.finish()) return;
    if (error === undefined || isAgentFault(error)) this.entry.breaker.recordFailure(this.generation);
    else this.entry.breaker.release(this.generation);
    this.wake();
  }

  release(): void {
    if (!this.finish()) return;
    this.entry.breaker.release(this.generation);
    this.wake();
  }
}
