import type { z } from 'zod';
import type { FieldPath } from './issues.js';

/** The parts of a zod v4 schema definition this walk reads. */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: readonly z.ZodType[];
  innerType?: z.ZodType;
  in?: z.ZodType;
  getter?: () => z.ZodType;
}
const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** Every object schema `schema` can have at `path` (unions contribute each branch). */
function objectsAt(schema: z.ZodType, path: FieldPath, depth = 0): Record<string, z.ZodType>[] {
  if (depth > 64) return [];
  const def = defOf(schema);
  const [seg, ...rest] = path;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
      return def.innerType ? objectsAt(def.innerType, path, depth + 1) : [];
    case 'pipe':
      return def.in ? objectsAt(def.in, path, depth + 1) : [];
    case 'lazy':
      return def.getter ? objectsAt(def.getter(), path, depth + 1) : [];
    case 'union':
      return (def.options ?? []).flatMap((option) => objectsAt(option, path, depth + 1));
    case 'object': {
      if (seg === undefined) return def.shape ? [def.shape] : [];
      const child = def.shape?.[String(seg)];
      return child ? objectsAt(child, rest, depth + 1) : [];
    }
    case 'record':
      return seg !== undefined && def.valueType ? objectsAt(def.valueType, rest, depth + 1) : [];
    case 'array':
      return typeof seg === 'number' && def.element ? objectsAt(def.element, rest, depth + 1) : [];
    default:
      return [];
  }
}

/** The field names `schema` allows in the object at `path`. */
export function knownFields(schema: z.ZodType, path: FieldPath): string[] {
  return [...new Set(objectsAt(schema, path).flatMap((shape) => Object.keys(shape)))];
}

/** Levenshtein distance (insertions, deletions, substitutions; Wagner–Fischer, one row). */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const next = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      next[j] = Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + cost);
    }
    row = next;
  }
  return row[b.length] ?? 0;
}

/**
 * The candidate closest to `word` (case-insensitive), when it is close enough to be a typo:
 * at most 1 edit for words up to 4 characters, else at most 40% of the word's length (rounded),
 * so `retries` finds `retry` and `timeotMs` finds `timeoutMs`.
 */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = word.length <= 4 ? 1 : Math.round(word.length * 0.4);
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}
