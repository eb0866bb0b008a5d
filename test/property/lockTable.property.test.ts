import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LockTable } from '../../src/resolver/lockTable.js';
import type { ConflictStrategy, LockEffect } from '../../src/resolver/lockTypes.js';
import type { WaitEdge } from '../../src/resolver/waitForGraph.js';

const NAMES = ['a', 'b', 'c', 'd'];
const OWNERS = ['w', 'x', 'y', 'z', 'o5', 'o6', 'o7', 'o8'];

type Op =
  | {
      kind: 'request';
      owner: number;
      names: string[];
      priority: number;
      deadlineIn?: number | undefined;
      leaseMs?: number | undefined;
    }
  | { kind: 'release'; which: number }
  | { kind: 'renew'; owner: number }
  | { kind: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('request' as const),
    owner: fc.nat(OWNERS.length - 1),
    names: fc.subarray(NAMES, { minLength: 1, maxLength: 3 }),
    priority: fc.integer({ min: 1, max: 5 }),
    deadlineIn: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
    leaseMs: fc.option(fc.integer({ min: 5, max: 60 }), { nil: undefined }),
  }),
  fc.record({ kind: fc.constant('release' as const), which: fc.nat(30) }),
  fc.record({ kind: fc.constant('renew' as const), owner: fc.nat(OWNERS.length - 1) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 40 }) }),
);

/** Reference cycle check: a node reaches itself through the transitive closure. */
function hasCycle(edges: readonly WaitEdge[]): boolean {
  const reach = new Map<string, Set<string>>();
  for (const e of edges) reach.set(e.from, new Set([...(reach.get(e.from) ?? []), e.to]));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [, targets] of reach) {
      for (const t of [...targets]) {
        for (const u of reach.get(t) ?? []) {
          if (!targets.has(u)) {
            targets.add(u);
            grew = true;
          }
        }
      }
    }
  }
  return [...reach].some(([node, targets]) => targets.has(node));
}

/** Runs ops against the table and checks the invariants after every effect and step. */
function run(ops: readonly Op[], strategy: ConflictStrategy): void {
  const table = new LockTable({ strategy });
  let now = 1000;
  let seq = 0;
  const ids: string[] = [];
  const holder = new Map<string, string>();
  const pending = new Map<string, { names: string[]; priority: number; seq: number; owner: string }>();
  const ownerOf = new Map<string, string>();
  const heldNames = new Map<string, string[]>();
  const check = (effects: LockEffect[]) => {
    for (const e of effects) {
      const id = e.request.id;
      if (e.type === 'granted') {
        for (const n of e.request.names) {
          expect(holder.get(n), `name ${n} granted to ${id} while held`).toBeUndefined();
          holder.set(n, id);
        }
        heldNames.set(id, [...e.request.names]);
        const mine = pending.get(id) ?? { priority: e.request.priority, seq: e.request.seq };
        pending.delete(id);
        if (strategy === 'priority' || strategy === 'queue') {
          for (const [qid, q] of pending) {
            const overlaps = q.names.some((n) => e.request.names.includes(n));
            const ahead =
              strategy === 'queue'
                ? q.seq < mine.seq
                : q.priority < mine.priority || (q.priority === mine.priority && q.seq < mine.seq);
            expect(overlaps && ahead, `${id} granted before ${qid}, which is ahead of it`).toBe(false);
          }
        }
      } else if (e.type === 'rejected') {
        pending.delete(id);
      } else {
        for (const n of heldNames.get(id) ?? []) if (holder.get(n) === id) holder.delete(n);
        heldNames.delete(id);
      }
    }
    for (const [n, h] of table.holders()) expect(holder.get(n)).toBe(h.requestId);
    expect(hasCycle(table.waitFor()), 'a wait-for cycle survived').toBe(false);
    if (strategy === 'priority' || strategy === 'queue') {
      // the full relation, from the model: holder edges and every earlier waiter of another owner
      const rank = (q: { priority: number; seq: number }) =>
        strategy === 'queue' ? [q.seq] : [q.priority, q.seq];
      const before = (a: { priority: number; seq: number }, b: { priority: number; seq: number }) => {
        const [x, y] = [rank(a), rank(b)];
        return x[0]! < y[0]! || (x[0] === y[0] && (x[1] ?? 0) < (y[1] ?? 0));
      };
      const full: WaitEdge[] = [];
      for (const [id, r] of pending) {
        for (const n of r.names) {
          const h = holder.get(n);
          if (h !== undefined) full.push({ from: r.owner, to: ownerOf.get(h)!, requestId: id, resource: n });
          for (const [qid, q] of pending) {
            if (qid !== id && q.owner !== r.owner && q.names.includes(n) && before(q, r))
              full.push({ from: r.owner, to: q.owner, requestId: id, resource: n });
          }
        }
      }
      expect(hasCycle(full), 'a cycle of the full wait-for relation survived').toBe(false);
    }
  };
  for (const op of ops) {
    if (op.kind === 'request') {
      const id = `r${ids.length}`;
      ids.push(id);
      seq += 1;
      pending.set(id, { names: [...op.names].sort(), priority: op.priority, seq, owner: OWNERS[op.owner]! });
      ownerOf.set(id, OWNERS[op.owner]!);
      check(
        table.request(
          {
            id,
            owner: OWNERS[op.owner]!,
            names: op.names,
            priority: op.priority,
            deadline: op.deadlineIn === undefined ? undefined : now + op.deadlineIn,
            leaseMs: op.leaseMs,
          },
          now,
        ),
      );
    } else if (op.kind === 'release') {
      const id = ids[op.which % Math.max(1, ids.length)];
      if (id === undefined) continue;
      const effects = table.release(id, now);
      if (heldNames.has(id)) {
        for (const n of heldNames.get(id) ?? []) if (holder.get(n) === id) holder.delete(n);
        heldNames.delete(id);
      }
      check(effects);
    } else if (op.kind === 'renew') {
      table.renew(OWNERS[op.owner]!, now);
    } else {
      now += op.ms;
      check(table.tick(now));
    }
  }
}

describe('LockTable (property)', () => {
  for (const strategy of ['priority', 'queue', 'deadline', 'adaptive'] as const) {
    it(`never grants a name to two holders, keeps the wait order and leaves no wait-for cycle (${strategy})`, () => {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => run(ops, strategy)),
        { numRuns: 300 },
      );
    });
  }

  it('detects every ring deadlock and aborts its lowest-priority (then youngest) waiter', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 6 }), (priorities) => {
        const n = priorities.length;
        const table = new LockTable();
        const owners = priorities.map((_, i) => `o${i}`);
        for (let i = 0; i < n; i++)
          table.request({ id: `h${i}`, owner: owners[i]!, names: [`r${i}`], priority: priorities[i]! }, 0);
        const effects: LockEffect[] = [];
        for (let i = 0; i < n; i++)
          effects.push(
            ...table.request(
              { id: `w${i}`, owner: owners[i]!, names: [`r${(i + 1) % n}`], priority: priorities[i]! },
              1,
            ),
          );
        const rejected = effects.filter((e) => e.type === 'rejected');
        expect(rejected).toHaveLength(1);
        const [deadlock] = rejected;
        if (deadlock?.type !== 'rejected') throw new Error('expected a rejection');
        expect(deadlock.reason).toBe('deadlock');
        expect(new Set(deadlock.cycle)).toEqual(new Set(owners));
        expect(deadlock.message).toMatch(/^deadlock o\d+ → /);
        const lowest = Math.max(...priorities);
        const victim = priorities.lastIndexOf(lowest);
        expect(deadlock.request.owner).toBe(owners[victim]);
        expect(hasCycle(table.waitFor())).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
