import { createHash } from 'node:crypto';
import { PatternValidationError } from '../../core/errors.js';
import type { Arm } from '../../learning/abtest/sequentialTest.js';

/**
 * Which arm a call goes to. With a unit key (a user, a tenant…), the arm is a stable hash of
 * the test name and the key: SHA-256 of `<test>\0<key>`, its first 48 bits read as a uniform
 * u in [0, 1), treatment when u < trafficSplit. The same unit always gets the same arm in one
 * test, and different tests split units independently. Without a key, `random()` decides.
 *
 * @param testName - the test's name
 * @param unitKey - a string or finite number from the context; undefined for none
 * @param trafficSplit - share of the treatment, 0 < split < 1
 * @param random - uniform in [0, 1), used only without a unit key
 */
export function assignArm(
  testName: string,
  unitKey: string | number | undefined,
  trafficSplit: number,
  random: () => number,
): Arm {
  const u = unitKey === undefined ? random() : unitHash(testName, String(unitKey));
  return u < trafficSplit ? 'treatment' : 'control';
}

/** The uniform number in [0, 1) of a unit in a test (see {@link assignArm}). */
export function unitHash(testName: string, unitKey: string): number {
  const digest = createHash('sha256').update(`${testName}\u0000${unitKey}`, 'utf8').digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/**
 * The unit key in a context's attributes: undefined when the attribute is absent.
 * @throws PatternValidationError naming `context.attributes.<attribute>` when it is present but
 *   not a non-empty string or a finite number.
 */
export function unitKeyOf(
  attributes: Record<string, unknown>,
  attribute: string,
): string | number | undefined {
  if (!Object.hasOwn(attributes, attribute) || attributes[attribute] === undefined) return undefined;
  const value = attributes[attribute];
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  const field = `context.attributes.${attribute}`;
  throw new PatternValidationError(
    `Invalid ${field}: a unit key must be a non-empty string or a finite number`,
    {
      field,
    },
  );
}
