import { z } from 'zod';

/**
 * The shapes of A/B tests at their boundaries: what `ABTester.defineTest` accepts and what the
 * store reads back (both validated with zod, errors naming the field).
 */

const metricSchema = z.enum(['success_rate', 'response_time']);
const splitSchema = z
  .number()
  .gt(0, 'must be above 0: both arms need traffic')
  .lt(1, 'must be below 1: both arms need traffic');

/** `ABTester.defineTest` options; unknown fields rejected. */
export const defineTestSchema = z
  .object({
    /** The test's name (its key in the store). */
    name: z.string().min(1),
    /** The registered pattern that runs today. */
    controlPattern: z.string().min(1),
    /** The registered pattern tried against it. */
    treatmentPattern: z.string().min(1),
    /** What decides "better": higher success rate, or lower mean response time of the successful runs. Default success_rate. */
    successMetric: metricSchema.default('success_rate'),
    /** Share of the traffic sent to the treatment, strictly between 0 and 1. Default 0.5. */
    trafficSplit: splitSchema.default(0.5),
    /** 1 − α of the always-valid test, strictly between 0 and 1. Default 0.95. */
    confidenceLevel: z.number().gt(0).lt(1).default(0.95),
    /**
     * τ, the standard deviation of the mSPRT's normal mixing distribution over the effect, in the
     * metric's units (0..1 for success_rate, ms for response_time). Default: 0.1 for
     * success_rate, 0.25 × the pooled standard deviation for response_time.
     */
    mixingSd: z.number().positive().finite().optional(),
    /** Outcomes each arm needs before the test looks (integer ≥ 2). Default 20. */
    minSamplesPerArm: z.number().int().min(2).default(20),
    /**
     * The context attribute whose value (string or number) assigns a unit to an arm by a stable
     * hash, so the same user always sees the same arm. Default `unitKey`.
     */
    unitKeyAttribute: z.string().min(1).default('unitKey'),
  })
  .strict()
  .refine((d) => d.controlPattern !== d.treatmentPattern, {
    path: ['treatmentPattern'],
    message: 'must differ from controlPattern',
  });

/** The input of `ABTester.defineTest`. */
export type ABTestDefinitionInput = z.input<typeof defineTestSchema>;
/** A validated definition, defaults filled in. */
export type ABTestDefinition = z.output<typeof defineTestSchema>;

const count = z.number().int().nonnegative();

const armSchema = z
  .object({ n: count, successes: count, meanMs: z.number().finite(), m2Ms: z.number().nonnegative() })
  .strict()
  .refine((a) => a.successes <= a.n, { path: ['successes'], message: 'must not exceed n' });

const stateSchema = z
  .object({
    looks: count,
    pValue: z.number().min(0).max(1),
    lower: z.number().nullable(),
    upper: z.number().nullable(),
    winner: z.enum(['control', 'treatment']).nullable(),
  })
  .strict();

/** One A/B test as stored: its definition, status, arms and sequential-test state. */
export const abTestRecordSchema = z
  .object({
    version: z.literal(1),
    definition: z
      .object({
        name: z.string().min(1),
        controlPattern: z.string().min(1),
        treatmentPattern: z.string().min(1),
        successMetric: metricSchema,
        trafficSplit: splitSchema,
        confidenceLevel: z.number().gt(0).lt(1),
        mixingSd: z.number().positive().finite().optional(),
        minSamplesPerArm: z.number().int().min(2),
        unitKeyAttribute: z.string().min(1),
      })
      .strict(),
    status: z.enum(['running', 'promoted']),
    /** Epoch ms. */
    createdAt: z.number(),
    /** Epoch ms; null while running. */
    promotedAt: z.number().nullable(),
    control: armSchema,
    treatment: armSchema,
    sequential: stateSchema,
  })
  .strict();

/** A stored A/B test. */
export type ABTestRecord = z.output<typeof abTestRecordSchema>;
