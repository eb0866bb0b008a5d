import { z } from 'zod';

/** The zod schema of a context, as accepted anywhere a context is (a plain object or a PatternContext). */
export const patternContextSchema = z
  .object({
    domain: z.string().default('general'),
    agentType: z.string().default('general'),
    /** 1 = highest, 5 = lowest. */
    priority: z.number().int().min(1).max(5).default(1),
    attributes: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type PatternContextInput = z.input<typeof patternContextSchema>;
export type PatternContextData = z.infer<typeof patternContextSchema>;
