import type { PatternSpec } from '../core/spec.js';
import type { PatternRegistry } from '../runtime/PatternRegistry.js';
import { BuiltInPattern } from '../runtime/patterns/BuiltInPattern.js';
import type { SpecLookup } from './runDiagram.js';

/**
 * The `patterns` option of the inspector for a registry: the spec of each registered built-in
 * pattern (sequential, parallel, meta), read when a run is first drawn; undefined for custom
 * patterns and unknown names (their runs are drawn from their events).
 *
 * @example
 * const inspector = await InspectorServer.start({ patterns: registrySpecs(registry) });
 */
export function registrySpecs(registry: PatternRegistry): SpecLookup {
  return (name: string): PatternSpec | undefined => {
    if (!registry.has(name)) return undefined;
    const pattern = registry.getPattern(name);
    return pattern instanceof BuiltInPattern ? pattern.toSpec() : undefined;
  };
}
