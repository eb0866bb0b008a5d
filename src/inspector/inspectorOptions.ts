import { z } from 'zod';
import { parseWith } from '../core/validate.js';
import type { SpecLookup } from './runDiagram.js';

/** A TCP port: 0 (any free port) to 65535. */
export const portSchema = z.number().int().min(0).max(65_535);

/** The zod schema of {@link InspectorOptions}. */
export const inspectorOptionsSchema = z
  .object({
    /** TCP port; 0 (the default) takes a free one (read it from `server.url`). */
    port: portSchema.default(0),
    /**
     * Interface to bind. Default `127.0.0.1`: the page shows step inputs, outputs and errors,
     * so it is served to this machine only unless you ask otherwise.
     */
    host: z.string().min(1).default('127.0.0.1'),
    /** Pattern specs by name, to draw each run's pattern diagram; without it (or for an unknown pattern) the diagram is drawn from the run's events. */
    patterns: z
      .custom<SpecLookup>((v) => typeof v === 'function', { message: 'must be a function' })
      .optional(),
    /** Runs kept in memory (oldest finished dropped first). */
    maxRuns: z.number().int().min(1).default(100),
    /** Events kept per run (machine transitions are never kept). */
    maxEventsPerRun: z.number().int().min(1).default(50_000),
    /** Interval of the SSE keep-alive comment, ms. */
    heartbeatMs: z.number().int().min(10).default(15_000),
  })
  .strict();

/** Options of {@link InspectorServer.start}. */
export type InspectorOptions = z.input<typeof inspectorOptionsSchema>;
/** Options with their defaults filled in. */
export type ParsedInspectorOptions = z.output<typeof inspectorOptionsSchema>;

/**
 * Validates inspector options.
 * @throws PatternValidationError naming the field (`inspector options.port: …`)
 */
export function parseInspectorOptions(options: unknown): ParsedInspectorOptions {
  return parseWith(inspectorOptionsSchema, options ?? {}, 'inspector options');
}

/**
 * A port given on the command line (`--port 4000`, `--inspect 4000`): digits only, 0..65535.
 * @throws PatternValidationError naming `flag` when it is not
 */
export function parsePortText(raw: string, flag: string): number {
  const digits = z
    .string()
    .regex(/^\d+$/, 'must be a port number (0 to 65535)')
    .transform(Number)
    .pipe(portSchema);
  return parseWith(digits, raw.trim(), flag);
}
