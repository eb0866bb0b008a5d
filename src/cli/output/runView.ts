import type { RunEvent } from '../../core/events.js';
import type { PlanNode } from './planTree.js';
import { patternKey, phaseKey, stepKey } from './planTree.js';

/** What the display knows about one node of the tree. */
export interface NodeState {
  kind: 'phase' | 'step';
  name: string;
  /** Pattern path of the node's events. */
  path: readonly string[];
  status: string;
  agent?: string | undefined;
  attempt: number;
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  error?: string | undefined;
}

const FINAL = new Set(['completed', 'failed', 'skipped', 'cancelled', 'succeeded', 'rolledBack', 'timedOut']);
const UNDO = new Set(['compensating', 'compensated', 'compensationFailed']);

/**
 * The state of a run as seen through its events: a tree (the plan, plus any pattern or step the
 * events reveal) and the latest status, agent, attempt and times of each node.
 */
export class RunView {
  readonly states = new Map<string, NodeState>();
  readonly breakers = new Map<string, string>();
  runId: string | undefined;
  /** Name of the root pattern, from `run.started`. */
  pattern: string | undefined;
  status = 'pending';
  /** Why the run failed, when it did (the first step error seen). */
  firstError: string | undefined;
  startedAt: number | undefined;
  endedAt: number | undefined;
  private readonly nodes = new Map<string, PlanNode>();

  /**
   * @param root - the plan of the pattern to run
   * @param planFor - the plan of a pattern picked at run time (the workflow names none): on
   *   `run.started`, it replaces a root whose name differs from the pattern started
   */
  constructor(
    public root: PlanNode,
    private readonly planFor?: (pattern: string) => PlanNode,
  ) {
    this.index(root);
  }

  /** Applies one event; returns whether anything visible changed. */
  apply(event: RunEvent): boolean {
    switch (event.type) {
      case 'run.started':
        this.runId = event.runId;
        this.pattern ??= event.pattern;
        if (this.planFor && this.root.name !== event.pattern && this.states.size === 0) {
          this.root = this.planFor(event.pattern);
          this.nodes.clear();
          this.index(this.root);
        }
        this.startedAt ??= event.at;
        this.status = 'running';
        return true;
      case 'run.finished':
        this.status = event.status;
        this.endedAt = event.at;
        return true;
      case 'phase.status':
        this.update(
          phaseKey(event.path, event.phase),
          event.status,
          event.at,
          {},
          () => this.ensurePattern(event.path),
          'phase',
          event.phase,
          event.path,
        );
        return true;
      case 'step.status':
        this.update(
          stepKey(event.path, event.step),
          event.status,
          event.at,
          { agent: event.agent, attempt: event.attempt, error: event.error?.message },
          () => this.ensurePattern(event.path),
          'step',
          event.step,
          event.path,
        );
        if (event.status === 'failed' && event.error) this.firstError ??= event.error.message;
        return true;
      case 'breaker.state':
        this.breakers.set(event.agent, event.to);
        return true;
      default:
        return false;
    }
  }

  /** The state of a node, if any event touched it. */
  state(key: string): NodeState | undefined {
    return this.states.get(key);
  }

  private update(
    key: string,
    status: string,
    at: number,
    extra: { agent?: string | undefined; attempt?: number; error?: string | undefined },
    parent: () => PlanNode,
    kind: 'phase' | 'step',
    name: string,
    path: readonly string[],
  ): void {
    if (!this.nodes.has(key)) this.attach(parent(), { kind, name, key, facts: [], children: [] });
    const prev: NodeState = this.states.get(key) ?? { kind, name, path, status: 'pending', attempt: 0 };
    const next: NodeState = {
      ...prev,
      status,
      agent: extra.agent ?? prev.agent,
      attempt: Math.max(prev.attempt, extra.attempt ?? 0),
      error: extra.error ?? (status === 'failed' ? prev.error : undefined) ?? prev.error,
    };
    if (status === 'running' && next.startedAt === undefined) next.startedAt = at;
    // Elapsed time is the work's: compensation later does not extend it.
    if (UNDO.has(status)) next.endedAt ??= at;
    else if (FINAL.has(status)) next.endedAt = at;
    else if (status === 'running' || status === 'retrying') next.endedAt = undefined;
    this.states.set(key, next);
  }

  private ensurePattern(path: readonly string[]): PlanNode {
    const key = patternKey(path);
    const found = this.nodes.get(key);
    if (found) return found;
    const name = path[path.length - 1] ?? '?';
    const node: PlanNode = { kind: 'pattern', name, key, facts: [], children: [] };
    this.attach(path.length > 1 ? this.ensurePattern(path.slice(0, -1)) : this.root, node);
    return node;
  }

  private attach(parent: PlanNode, node: PlanNode): void {
    parent.children.push(node);
    this.nodes.set(node.key, node);
  }

  private index(node: PlanNode): void {
    // A pattern nested in a phase keeps the first place it appears.
    if (!this.nodes.has(node.key)) this.nodes.set(node.key, node);
    node.children.forEach((child) => this.index(child));
  }
}
