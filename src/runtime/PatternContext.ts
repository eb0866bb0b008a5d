import { isDeepStrictEqual } from 'node:util';
import { parseWith } from '../core/validate.js';
import { patternContextSchema, type PatternContextData, type PatternContextInput } from '../core/context.js';

export { patternContextSchema };
export type { PatternContextData, PatternContextInput };

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\?]/g, '\\$&');
}

/**
 * Execution context for delegation patterns: domain, agent type, priority (1 highest … 5
 * lowest) and free-form attributes used for pattern matching and handed to every agent.
 *
 * @example
 * const ctx = new PatternContext({ domain: 'web_development.frontend', agentType: 'frontend' });
 * ctx.matchesDomain('web_*'); // true
 */
export class PatternContext implements PatternContextData {
  readonly domain: string;
  readonly agentType: string;
  readonly priority: number;
  readonly attributes: Record<string, unknown>;

  /**
   * @param domainOrInit - the domain, or an object with every field
   * @throws PatternValidationError naming the offending field
   */
  constructor(
    domainOrInit: string | PatternContextInput = {},
    agentType?: string,
    priority?: number,
    attributes?: Record<string, unknown>,
  ) {
    const init =
      typeof domainOrInit === 'string'
        ? { domain: domainOrInit, agentType, priority, attributes }
        : domainOrInit;
    const data = parseWith(patternContextSchema, stripUndefined(init), 'context');
    this.domain = data.domain;
    this.agentType = data.agentType;
    this.priority = data.priority;
    this.attributes = data.attributes;
  }

  /** Turns a plain object (or an existing context) into a PatternContext. */
  static from(input: PatternContext | PatternContextInput | undefined): PatternContext {
    return input instanceof PatternContext ? input : new PatternContext(input ?? {});
  }

  /**
   * Whether the domain matches a pattern where `*` matches any run of characters
   * (`web_development.*`, `web_*`, `*`).
   */
  matchesDomain(domainPattern: string): boolean {
    const regex = new RegExp(`^${domainPattern.split('*').map(escapeRegExp).join('.*')}$`);
    return regex.test(this.domain);
  }

  /** Whether `key` is an attribute (and, when `value` is given, equals it deeply). */
  hasAttribute(key: string, value?: unknown): boolean {
    if (!Object.hasOwn(this.attributes, key)) return false;
    return value === undefined || isDeepStrictEqual(this.attributes[key], value);
  }

  /** A new context with `additional` merged over the attributes; this one is unchanged. */
  mergeAttributes(additional: Record<string, unknown>): PatternContext {
    return new PatternContext({ ...this.toJSON(), attributes: { ...this.attributes, ...additional } });
  }

  toJSON(): PatternContextData {
    return {
      domain: this.domain,
      agentType: this.agentType,
      priority: this.priority,
      attributes: this.attributes,
    };
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
