/**
 * A persistent array: `set` returns a new version and every older version stays readable, yet
 * reading or writing the newest version costs O(1), with no copy. One mutable array is shared by
 * all versions; the newest holds it and each older version holds the one write that tells it
 * apart from its successor. Reading an older version first "reroots" the array to it, undoing
 * the writes in between (O(distance), and then that version is the fast one). A machine's context
 * can thus hold per-task state that changes on every event, in O(1) per event, and stay a pure
 * value that xstate/graph explores from any earlier snapshot.
 *
 * Source: H. G. Baker, "Shallow binding makes functional arrays fast", ACM SIGPLAN Notices 26(8),
 * 1991; S. Conchon & J.-C. Filliâtre, "A Persistent Union-Find Data Structure", ML Workshop 2007, §2.
 */
export class PersistentArray<T> {
  /** The shared array (this is the newest version) or the write that leads to the next version. */
  private data: T[] | Diff<T>;

  private constructor(data: T[] | Diff<T>) {
    this.data = data;
  }

  /** A first version holding `values` (the array is taken over, not copied: do not keep it). */
  static from<T>(values: T[]): PersistentArray<T> {
    return new PersistentArray(values);
  }

  get length(): number {
    return this.array().length;
  }

  /** Element `i` of this version (undefined out of range). */
  get(i: number): T | undefined {
    return this.array()[i];
  }

  /** A version equal to this one but with `value` at `i` (this one itself if nothing changes). */
  set(i: number, value: T): PersistentArray<T> {
    const arr = this.array();
    const old = arr[i] as T;
    if (old === value) return this;
    arr[i] = value;
    const next = new PersistentArray<T>(arr);
    this.data = { index: i, value: old, next };
    return next;
  }

  /** A copy of this version as a plain array (O(n)). */
  toArray(): T[] {
    return this.array().slice();
  }

  /** Makes this version hold the shared array (iteratively: chains can be long). */
  private array(): T[] {
    if (Array.isArray(this.data)) return this.data;
    const path: PersistentArray<T>[] = [this];
    let holder = this.data.next;
    while (!Array.isArray(holder.data)) {
      path.push(holder);
      holder = holder.data.next;
    }
    const arr = holder.data;
    for (let k = path.length - 1; k >= 0; k--) {
      const version = path[k] as PersistentArray<T>;
      const diff = version.data as Diff<T>;
      const newer = diff.next;
      newer.data = { index: diff.index, value: arr[diff.index] as T, next: version };
      arr[diff.index] = diff.value;
      version.data = arr;
    }
    return arr;
  }
}

interface Diff<T> {
  readonly index: number;
  readonly value: T;
  readonly next: PersistentArray<T>;
}
