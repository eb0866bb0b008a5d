import type { RunEvent } from '../../runtime/events.js';
import type { PlanNode } from './planTree.js';
import { patternKey, phaseKey, stepKey } from './planTree.js';

/** What the display knows about one node of the tree. */
export interface NodeState {
  status: string;
  agent?: string | undefined;
  attempt: number;
  startedAt?: number | undefined;
  endedAt?: number | undefined;
  error?: string | undefined;
}

const FINAL = new Set([
  'completed',
  'failed',
  'skipped',
  'cancelled',
  'compensated',
  'compensationFailed',
  'succeeded',
  'rolledBack',
  'timedOut',
]);

/**
 * The state of a run as seen through its events: a tree (the plan, plus any pattern or step the
 * events reveal) and the latest status, agent, attempt and times of each node.
 */
export class RunView {
  readonly states = new Map<string, NodeState>();
  readonly breakers = new Map<string, string>();
  runId: string | undefined;
  status = 'pending';
  startedAt: number | undefined;
  endedAt: number | undefined;
  private readonly nodes = new Map<string, PlanNode>();

  constructor(readonly root: PlanNode) {
    this.index(root);
  }

  /** Applies one event; returns whether anything visible changed. */
  apply(event: RunEvent): boolean {
    switch (event.type) {
      case 'run.started':
        this.runId = event.runId;
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
        );
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
  ): void {
    if (!this.nodes.has(key)) this.attach(parent(), { kind, name, key, facts: [], children: [] });
    const prev = this.states.get(key) ?? { status: 'pending', attempt: 0 };
    const next: NodeState = {
      ...prev,
      status,
      agent: extra.agent ?? prev.agent,
      attempt: Math.max(prev.attempt, extra.attempt ?? 0),
      error: extra.error ?? (status === 'failed' ? prev.error : undefined) ?? prev.error,
    };
    if (status === 'running' && next.startedAt === undefined) next.startedAt = at;
    if (FINAL.has(status)) next.endedAt = at;
    else if (status === 'running' || status === 'retrying' || status === 'compensating')
      next.endedAt = undefined;
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
