/**
 * The outputs of a run's completed steps, by step name, and the frozen views of them each step
 * is given as `input.results`. A view shows the outputs recorded before it was taken, like a
 * frozen copy, but taking it costs O(1), not a copy of every output so far (which made a run
 * quadratic in its steps): outputs go to an append-only log, and a view is a read-only Proxy
 * over the log's first `length` entries. Reading a key (`results.extract`, `'extract' in
 * results`) is O(1); the first enumeration (`Object.keys`, spread, `JSON.stringify`, a descriptor)
 * fills and freezes the view's target once, in O(length), and every operation from then on is
 * the frozen object's own. Writes throw a TypeError saying the view is read only, and
 * `Object.isFrozen(view)` is true.
 */
/** @throws TypeError: a results view is read only (in sloppy mode too, unlike a frozen object). */
function readOnly(op: string, key: string | symbol): never {
  throw new TypeError(`input.results is read only: cannot ${op} property "${String(key)}"`);
}

export class ResultsLog {
  private readonly keys: string[] = [];
  private readonly values: unknown[] = [];
  /** For each key, the log positions that recorded it, ascending. */
  private readonly positions = new Map<string, number[]>();
  private view: Readonly<Record<string, unknown>> | undefined;

  /** Records `value` as the output of step `key`. */
  record(key: string, value: unknown): void {
    const at = this.keys.length;
    this.keys.push(key);
    this.values.push(value);
    const known = this.positions.get(key);
    if (known) known.push(at);
    else this.positions.set(key, [at]);
    this.view = undefined;
  }

  /** A frozen view of the outputs recorded so far (the same object until the next `record`). */
  current(): Readonly<Record<string, unknown>> {
    this.view ??= this.viewOf(this.keys.length);
    return this.view;
  }

  /** Position in the log of the latest record of `key` before `length`, or -1. */
  private find(key: string, length: number): number {
    const known = this.positions.get(key);
    if (!known) return -1;
    for (let k = known.length - 1; k >= 0; k--) if ((known[k] as number) < length) return known[k] as number;
    return -1;
  }

  private viewOf(length: number): Readonly<Record<string, unknown>> {
    const target: Record<string, unknown> = {};
    let filled = false;
    const fill = (): Record<string, unknown> => {
      if (filled) return target;
      filled = true;
      // keys in the order first recorded, each with its latest value before `length`
      for (let i = 0; i < length; i++) {
        const key = this.keys[i] as string;
        if (this.positions.get(key)?.[0] !== i) continue;
        Object.defineProperty(target, key, {
          value: this.values[this.find(key, length)],
          enumerable: true,
          writable: false,
          configurable: false,
        });
      }
      return Object.freeze(target);
    };
    // util.inspect shows a Proxy's target without traps: show the filled copy instead.
    Object.defineProperty(target, Symbol.for('nodejs.util.inspect.custom'), {
      value: () => ({ ...fill() }),
      enumerable: false,
    });
    return new Proxy(target, {
      get: (t, key, receiver) => {
        if (!filled && typeof key === 'string') {
          const at = this.find(key, length);
          if (at >= 0) return this.values[at];
        }
        return Reflect.get(t, key, receiver) as unknown;
      },
      has: (t, key) => {
        if (!filled && typeof key === 'string' && this.find(key, length) >= 0) return true;
        return Reflect.has(t, key);
      },
      ownKeys: () => Reflect.ownKeys(fill()),
      getOwnPropertyDescriptor: (_, key) => Reflect.getOwnPropertyDescriptor(fill(), key),
      defineProperty: (_, key, d) => Reflect.defineProperty(fill(), key, d) || readOnly('define', key),
      deleteProperty: (_, key) => Reflect.deleteProperty(fill(), key) || readOnly('delete', key),
      set: (_, key, value) => Reflect.set(fill(), key, value) || readOnly('set', key),
      isExtensible: () => Reflect.isExtensible(fill()),
      preventExtensions: () => Reflect.preventExtensions(fill()),
      setPrototypeOf: (_, proto) => Reflect.setPrototypeOf(fill(), proto),
    });
  }
}
