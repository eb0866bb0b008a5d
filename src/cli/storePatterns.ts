import type { PatternSpec } from '../core/spec.js';
import type { JournalEntry } from '../store/journal.js';

type RunStarted = Extract<JournalEntry, { kind: 'runStarted' }>;

/** Reads a workflow file's pattern specs (`loadPatternSpecs` of `ndf diagram --workflow`). */
export type PatternFileLoader = (file: string) => Promise<ReadonlyMap<string, PatternSpec>>;

/**
 * The patterns of the runs in a run store, for `ndf inspect --store`: the inspector draws a
 * stored run as its pattern's state diagram (as `ndf diagram --workflow` does) when the
 * workflow file the run was started from (`runStarted.source`, recorded by `ndf run`) still
 * defines the pattern with the steps the run recorded; otherwise (no file, a file that no longer
 * loads, steps changed, or runs of one pattern name that disagree) it draws the run from its
 * events, as for a trace file.
 */
export class StorePatterns {
  private readonly files = new Map<string, Promise<ReadonlyMap<string, PatternSpec> | undefined>>();
  /** By pattern name; null once runs disagree about it. */
  private readonly specs = new Map<string, PatternSpec | null>();

  constructor(
    private readonly load: PatternFileLoader,
    /** The step keys (`pattern/…/step`) a pattern's diagram shows, resolving meta phases with `resolve`. */
    private readonly stepKeys: (
      name: string,
      spec: PatternSpec,
      resolve: (name: string) => PatternSpec | undefined,
    ) => string[],
  ) {}

  /** The spec to draw runs of `name` with, if every run of it seen so far agrees. */
  readonly lookup = (name: string): PatternSpec | undefined => this.specs.get(name) ?? undefined;

  /** The kind of pattern `name` (`sequential`, `parallel`, `meta`), '' when unknown. */
  readonly kindOf = (name: string): string => this.specs.get(name)?.kind ?? '';

  /** Learns the pattern of a stored run from its `runStarted` fact (never throws). */
  async learn(fact: RunStarted): Promise<void> {
    const specs = fact.source === undefined ? undefined : await this.file(fact.source);
    const spec = specs?.get(fact.pattern);
    const recorded = fact.steps?.map((s) => s.step);
    let drawn: string[] | undefined;
    try {
      drawn = spec && this.stepKeys(fact.pattern, spec, (n) => specs?.get(n));
    } catch {
      drawn = undefined;
    }
    if (specs === undefined || spec === undefined || recorded === undefined || !sameSet(drawn, recorded)) {
      this.specs.set(fact.pattern, null);
      return;
    }
    for (const [name, s] of specs) this.add(name, s);
  }

  private add(name: string, spec: PatternSpec): void {
    const known = this.specs.get(name);
    if (known === undefined) this.specs.set(name, spec);
    else if (known !== null && JSON.stringify(known) !== JSON.stringify(spec)) this.specs.set(name, null);
  }

  private file(path: string): Promise<ReadonlyMap<string, PatternSpec> | undefined> {
    let loaded = this.files.get(path);
    if (loaded === undefined) {
      loaded = this.load(path).catch(() => undefined);
      this.files.set(path, loaded);
    }
    return loaded;
  }
}

function sameSet(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === undefined) return false;
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((k) => y.has(k));
}
