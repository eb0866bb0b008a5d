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
import type { DecisionRecord } from '../core/events.js';
import { ArmLearner } from '../learning/ArmLearner.js';
import type { CellContext } from '../learning/cells.js';
import { decide, type Exclusion } from '../learning/decide.js';
import type { LearningParams } from '../learning/params.js';
import type { Random } from '../learning/random.js';
import type { SharedBreakerGate, SharedBreakerState } from '../core/sharedBreakers.js';
import type { Logger } from '../core/logger.js';

/** How the pool picks among capable agents: see {@link AgentPoolOptions.selection}. */
export type AgentSelection = 'learned' | 'leastLoaded' | 'roundRobin';

/** The run an acquisition is for: its id and context (the context cell of learned selection). */
export interface AcquireRun {
  readonly runId: string;
  readonly context: CellContext;
}

/** One attempt's outcome as learned selection records it: `at` epoch ms, `latencyMs` ms. */
export interface LearnedAgentOutcome {
  readonly at: number;
  readonly success: boolean;
  readonly latencyMs: number;
  readonly context?: CellContext | undefined;
}

/** A learned choice of an agent, for the run's events. */
export interface AgentDecision {
  readonly runId: string;
  readonly path: readonly string[];
  readonly step: string;
  readonly decision: DecisionRecord;
}

const DEFAULT_CELL: CellContext = { domain: 'general', agentType: 'general' };
/** Retention is applied at most this often, ms of the pool's clock. */
const PRUNE_EVERY_MS = 60_000;

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
  /** The cluster's breaker state and where its write errors go, when the pool has one. */
  readonly shared: SharedLink | undefined;
}

interface SharedLink {
  readonly gate: SharedBreakerGate;
  /** Runs a write to the shared state in the background, logging (not throwing) its failure. */
  readonly report: (write: Promise<unknown>, what: string) => void;
}

/** One call of {@link AgentPool.acquire}: the candidates left and the refusals so far. */
interface Acquisition {
  readonly spec: StepSpec;
  readonly path: readonly string[];
  readonly cancel: CancellationSignal | undefined;
  readonly waitUntil: number | undefined;
  readonly run: AcquireRun | undefined;
  readonly ordered: readonly Entry[];
  readonly remaining: Entry[];
  readonly refused: Exclusion[];
  readonly learn: LearnHook | undefined;
  retryAt: number;
}

export interface AgentPoolOptions {
  readonly clock: Clock;
  /** Breaker options for every agent unless registered with its own. */
  readonly breaker?: BreakerOptionsInput | undefined;
  /** Where breaker listener errors are logged (default: the library's logger). */
  readonly log?: ListenerErrorLog | undefined;
  readonly onBreakerChange?: ((change: BreakerStateChange) => void) | undefined;
  /**
   * `learned` (default): Thompson sampling (or the gradient bandit) on each agent's outcomes in
   * the step's context cell, among the capable agents whose breaker admits the call, preferring
   * those with a free slot; `leastLoaded`: lowest (active + waiting) / maxConcurrent;
   * `roundRobin`: in turn per capability. An explicit step → agent mapping always wins.
   */
  readonly selection?: AgentSelection | undefined;
  /** Uniform [0, 1) draws of learned selection (default Math.random). */
  readonly random?: Random | undefined;
  /** The learning knobs, read at each decision (default: LearningConfig's defaults are the caller's job). */
  readonly learning?: (() => LearningParams) | undefined;
  /** Called with every learned choice among two or more agents. */
  readonly onDecision?: ((decision: AgentDecision) => void) | undefined;
  /**
   * A circuit-breaker state shared with the other processes of a cluster (`SharedBreakerBoard`):
   * a local breaker that opens opens the agent's circuit for all; while the shared circuit is not
   * closed, it alone admits calls (one half-open probe cluster-wide) and local breakers follow
   * its transitions. When it cannot be reached, the local breaker decides (logged at warn).
   */
  readonly shared?: SharedBreakerGate | undefined;
  /**
   * Called with every outcome learned selection records from this pool's own leases (not those
   * given to {@link AgentPool.recordOutcome} from outside): what a cluster shares.
   */
  readonly onLearned?:
    ((capability: string, agentId: string, outcome: LearnedAgentOutcome) => void) | undefined;
  /** Where failed writes to the shared state are logged (default: dropped). */
  readonly logger?: Pick<Logger, 'warn'> | undefined;
}

/**
 * The agents a runtime delegates to: capability index, one circuit breaker and one
 * concurrency limit (`maxConcurrent` slots, FIFO) per agent. Routing: among the agents able to
 * perform a step (the mapped agent, or every agent with the capability), the one the selection
 * rule picks (learned by default: see {@link AgentPoolOptions.selection}) whose breaker admits the
 * call; if every breaker is open, fail fast with CircuitOpenError.
 */
export class AgentPool {
  private readonly entries = new Map<string, Entry>();
  private readonly byCapability = new Map<string, Entry[]>();
  /** Outcomes of agents per capability (learned selection). */
  private readonly learners = new Map<string, ArmLearner>();
  private readonly turns = new Map<string, number>();
  private lastPrune = -Infinity;
  private readonly shared: SharedLink | undefined;
  private readonly stopFollowing: (() => void) | undefined;
  readonly selection: AgentSelection;

  constructor(private readonly options: AgentPoolOptions) {
    this.selection = options.selection ?? 'learned';
    const gate = options.shared;
    if (gate) {
      const logger = options.logger;
      this.shared = {
        gate,
        report: (write, what) =>
          void write.catch((error: unknown) =>
            logger?.warn({ err: error }, `shared circuit breaker: ${what} failed`),
          ),
      };
      this.stopFollowing = gate.onChange((state) => this.follow(state));
    }
  }

  /** Moves an agent's local breaker to a transition made in the cluster, and wakes its waiters. */
  private follow(state: SharedBreakerState): void {
    const entry = this.entries.get(state.agentId);
    if (!entry) return;
    if (state.state === 'open' && entry.breaker.state !== 'open') entry.breaker.trip();
    else if (state.state === 'closed' && entry.breaker.state !== 'closed') entry.breaker.reset();
    for (const w of [...entry.waiters]) w();
  }

  /** The learner of a capability's agents (created on first use). */
  learner(capability: string): ArmLearner | undefined {
    const params = this.options.learning?.();
    if (!params) return undefined;
    let l = this.learners.get(capability);
    if (!l) {
      l = new ArmLearner(params);
      this.learners.set(capability, l);
    } else if (l.params !== params) l.setParams(params);
    return l;
  }

  /** Replaces a capability's learner (a restored one). */
  restoreLearner(capability: string, learner: ArmLearner): void {
    this.learners.set(capability, learner);
  }

  /** Capabilities with learned outcomes. */
  learnedCapabilities(): string[] {
    return [...this.learners.keys()];
  }

  /** Records an agent's outcome for a capability in a context (also what leases do). */
  recordOutcome(capability: string, agentId: string, outcome: LearnedAgentOutcome): void {
    const l = this.learner(capability);
    if (!l) return;
    l.record(agentId, { ...outcome, context: outcome.context ?? DEFAULT_CELL });
    if (outcome.at - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = outcome.at;
      for (const x of this.learners.values()) x.prune(outcome.at);
    }
  }

  /** The next agent to try among `remaining` (all capable, not yet refused), by the selection rule. */
  private pick(
    spec: StepSpec,
    remaining: readonly Entry[],
    refused: readonly Exclusion[],
    run: AcquireRun | undefined,
    path: readonly string[],
  ): Entry {
    if (remaining.length === 1) return remaining[0]!;
    const load = (e: Entry) => (e.slots.active + e.slots.waiting) / e.agent.maxConcurrent;
    if (this.selection === 'roundRobin') {
      const turn = this.turns.get(spec.capability) ?? 0;
      this.turns.set(spec.capability, turn + 1);
      return remaining[turn % remaining.length]!;
    }
    const learner = this.selection === 'learned' ? this.learner(spec.capability) : undefined;
    if (!learner) {
      let best = remaining[0]!;
      for (const e of remaining) if (load(e) < load(best)) best = e;
      return best;
    }
    // Load awareness: agents with a free slot; when none has one, the least loaded (queues stay short).
    let eligible = remaining.filter((e) => e.slots.active < e.agent.maxConcurrent);
    if (eligible.length === 0) {
      const least = Math.min(...remaining.map(load));
      eligible = remaining.filter((e) => load(e) === least);
    }
    const excluded: Exclusion[] = [...refused];
    for (const e of remaining)
      if (!eligible.includes(e))
        excluded.push({
          arm: e.agent.id,
          why: `busy: ${e.slots.active} of ${e.agent.maxConcurrent} slots, ${e.slots.waiting} waiting`,
        });
    const random = this.options.random ?? Math.random;
    const decision = decide(
      learner,
      eligible.map((e) => e.agent.id),
      run?.context ?? DEFAULT_CELL,
      random,
      excluded,
    );
    this.options.onDecision?.({ runId: run?.runId ?? '*', path, step: spec.name, decision });
    return eligible.find((e) => e.agent.id === decision.chosen)!;
  }

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
      shared: this.shared,
    };
    const listener = this.options.onBreakerChange;
    if (listener) entry.breaker.onStateChange(listener);
    const shared = this.shared;
    if (shared) {
      // This process saw the agent fail: open its circuit for the cluster (unless it already is).
      entry.breaker.onStateChange((change) => {
        if (change.to === 'open' && shared.gate.state(agent.id).state === 'closed') {
          shared.report(shared.gate.recordOpened(agent.id), `opening "${agent.id}"`);
        }
      });
    }
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
   * @param run - the run's id and context: the cell learned selection decides in and records to
   */
  acquire(
    spec: StepSpec,
    path: readonly string[],
    cancel?: CancellationSignal,
    waitUntil?: number,
    run?: AcquireRun,
  ): Promise<AgentLease> {
    let candidates: Entry[];
    try {
      candidates = this.candidates(spec, path);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.tryCandidates({
      spec,
      path,
      cancel,
      waitUntil,
      run,
      ordered: candidates,
      remaining: [...candidates],
      refused: [],
      learn: spec.agent === undefined ? this.learningHook(spec.capability, run) : undefined,
      retryAt: Infinity,
    });
  }

  /** Tries the remaining candidates in selection order; waits or fails when every breaker refuses. */
  private tryCandidates(a: Acquisition): Promise<AgentLease> {
    while (a.remaining.length > 0) {
      const entry = this.pick(a.spec, a.remaining, a.refused, a.run, a.path);
      a.remaining.splice(a.remaining.indexOf(entry), 1);
      if (entry.shared && entry.shared.gate.state(entry.agent.id).state !== 'closed') {
        return this.admitShared(entry, entry.shared.gate, a);
      }
      const permit = entry.breaker.tryAcquire();
      if (permit.ok) return this.grant(entry, permit.generation, false, a);
      refuse(a, entry, permit.retryAt, `circuit ${entry.breaker.state}`);
    }
    const { spec, path, cancel, waitUntil, run, ordered, retryAt } = a;
    const now = this.options.clock.now();
    if (waitUntil !== undefined && now < waitUntil && retryAt <= waitUntil && !cancel?.aborted) {
      return this.waitForBreakers(ordered, retryAt, waitUntil, cancel).then(() =>
        this.acquire(spec, path, cancel, waitUntil, run),
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
   * The cluster's circuit for the agent is not closed: the shared state decides (the one probe,
   * or a refusal). When it cannot be reached, the local breaker decides.
   */
  private async admitShared(entry: Entry, gate: SharedBreakerGate, a: Acquisition): Promise<AgentLease> {
    const id = entry.agent.id;
    let admission;
    try {
      admission = await gate.admit(id);
    } catch (error) {
      this.options.logger?.warn(
        { err: error, agent: id },
        'shared circuit breaker unreachable; the local breaker decides',
      );
      admission = { ok: true as const, probe: false, generation: 0 };
    }
    if (!admission.ok) {
      // Half-open with the probe elsewhere: its outcome (a change) wakes the waiters, as a local probe's does.
      const retryAt =
        admission.state === 'halfOpen'
          ? Math.min(admission.retryAt, this.options.clock.now())
          : admission.retryAt;
      refuse(a, entry, retryAt, `circuit ${admission.state} in the cluster`);
      return this.tryCandidates(a);
    }
    if (admission.probe) return this.grant(entry, admission.generation, true, a);
    const permit = entry.breaker.tryAcquire();
    if (permit.ok) return this.grant(entry, permit.generation, false, a);
    refuse(a, entry, permit.retryAt, `circuit ${entry.breaker.state}`);
    return this.tryCandidates(a);
  }

  /** Takes a slot on the admitted agent (waiting in FIFO order when all are busy). */
  private grant(entry: Entry, generation: number, probe: boolean, a: Acquisition): Promise<AgentLease> {
    const lease = () => new Lease(entry, generation, probe, a.learn);
    if (entry.slots.tryAcquire()) return Promise.resolve(lease());
    return entry.slots.acquire(a.cancel).then(lease, (error: unknown) => {
      releasePermit(entry, generation, probe);
      throw error;
    });
  }

  /** What a lease reports its outcome to (learned selection only). */
  private learningHook(capability: string, run: AcquireRun | undefined): LearnHook | undefined {
    if (this.selection !== 'learned' || !this.options.learning) return undefined;
    const { clock } = this.options;
    const started = clock.now();
    const c = run?.context;
    const context: CellContext | undefined = c && {
      domain: c.domain,
      agentType: c.agentType,
      ...(c.attributes === undefined ? {} : { attributes: c.attributes }),
    };
    return (agentId, success) => {
      const at = clock.now();
      const outcome = { at, success, latencyMs: at - started, context };
      this.recordOutcome(capability, agentId, outcome);
      this.options.onLearned?.(capability, agentId, outcome);
    };
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
    this.stopFollowing?.();
    for (const e of this.entries.values()) e.breaker.stop();
    await Promise.allSettled([...this.entries.values()].map((e) => Promise.resolve(e.agent.close?.())));
  }
}

/** What a lease reports its outcome to (learned selection). */
type LearnHook = (agentId: string, success: boolean) => void;

/** Records that an agent's breaker refused the call, and when it will admit one. */
function refuse(a: Acquisition, entry: Entry, retryAt: number, why: string): void {
  a.retryAt = Math.min(a.retryAt, retryAt);
  a.refused.push({ arm: entry.agent.id, why });
}

/** Frees a breaker permit that ended with no outcome: a local one, or the cluster's probe. */
function releasePermit(entry: Entry, generation: number, probe: boolean): void {
  if (probe && entry.shared) {
    entry.shared.report(
      entry.shared.gate.releaseProbe(entry.agent.id, generation),
      `releasing the probe of "${entry.agent.id}"`,
    );
  } else entry.breaker.release(generation);
}

/**
 * One attempt's hold on an agent (a class, not closures: thousands may be parked at once). Its
 * outcome is reported with the breaker generation it was admitted in, so a late answer cannot move a
 * breaker that changed state meanwhile.
 */
class Lease implements AgentLease {
  private done = false;

  /**
   * @param generation - the breaker generation the call was admitted in: the local breaker's, or
   *   the shared state's when `probe` (the cluster's one half-open probe)
   */
  constructor(
    private readonly entry: Entry,
    private readonly generation: number,
    private readonly probe: boolean,
    private readonly learn?: LearnHook | undefined,
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

  /** Reports the probe's outcome to the cluster. */
  private reportProbe(success: boolean): void {
    const { shared, agent } = this.entry;
    shared?.report(
      shared.gate.recordProbe(agent.id, this.generation, success),
      `reporting the probe of "${agent.id}"`,
    );
  }

  succeed(durationMs: number): void {
    if (!this.finish()) return;
    if (this.probe) this.reportProbe(true);
    else this.entry.breaker.recordSuccess(durationMs, this.generation);
    this.learn?.(this.entry.agent.id, true);
    this.wake();
  }

  fail(error?: unknown): void {
    if (!this.finish()) return;
    if (error === undefined || isAgentFault(error)) {
      if (this.probe) this.reportProbe(false);
      else this.entry.breaker.recordFailure(this.generation);
      this.learn?.(this.entry.agent.id, false);
    } else releasePermit(this.entry, this.generation, this.probe);
    this.wake();
  }

  release(): void {
    if (!this.finish()) return;
    releasePermit(this.entry, this.generation, this.probe);
    this.wake();
  }
}
