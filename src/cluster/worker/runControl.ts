/**
 * The run control contract between the workers and the tools that cancel or signal runs:
 * the worker that drives a run (its lease holder) answers requests on the run's control subject
 * `<prefix>.<run token>` while it drives it. Messages are JSON, validated on both ends.
 */
import { z } from 'zod';
import { runToken } from '../../store/jetstream/names.js';

/** Default prefix of the control subjects. */
export const DEFAULT_CONTROL_PREFIX = 'ndf.control';

/** The control subject of a run. */
export const controlSubject = (prefix: string, runId: string): string => `${prefix}.${runToken(runId)}`;

/** A request to the worker that drives a run. */
export const controlRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('cancel'), reason: z.string().max(2000).optional() }).strict(),
  z
    .object({ kind: z.literal('signal'), signal: z.string().min(1).max(200), payload: z.json().optional() })
    .strict(),
]);
export type ControlRequest = z.infer<typeof controlRequestSchema>;

/** The worker's answer: `ok` with the worker's id, or why it could not. */
export const controlReplySchema = z.union([
  z.object({ ok: z.literal(true), worker: z.string() }).strict(),
  z.object({ ok: z.literal(false), error: z.string() }).strict(),
]);
export type ControlReply = z.infer<typeof controlReplySchema>;
