import { z } from 'zod';
import {
  argv,
  capabilities,
  cwd,
  description,
  env,
  fraction,
  maxConcurrent,
  timeoutMs,
} from './schemaParts.js';
import { positiveDurationMs } from '../../core/duration.js';

/** The `agents` (and `breaker`) part of the workflow file schema. */

/** Circuit breaker settings: top level for every agent, or per agent (merged over the top level). */
export const breakerSpecSchema = z
  .object({
    failureThreshold: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Consecutive failures that open the circuit.'),
    failureRateThreshold: fraction.optional(),
    minimumThroughput: z.number().int().min(1).optional(),
    windowMs: positiveDurationMs.optional(),
    recoveryTimeoutMs: positiveDurationMs.optional(),
    halfOpenMaxProbes: z.number().int().min(1).optional(),
    successThreshold: z.number().int().min(1).optional(),
  })
  .strict();

const agentBreaker = () =>
  breakerSpecSchema.optional().describe('Circuit breaker of this agent, merged over the top-level one.');

/** An agent that runs a command per task; the task JSON goes to stdin (or an env variable). */
export const commandAgentSpecSchema = z
  .object({
    kind: z.literal('command'),
    description,
    capabilities,
    maxConcurrent,
    breaker: agentBreaker(),
    command: argv,
    cwd,
    env,
    timeoutMs: timeoutMs.describe('Kill the process after this many ms.'),
    taskVia: z.enum(['stdin', 'env']).optional().describe('Where the task JSON goes (default stdin).'),
    taskEnv: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
      .optional()
      .describe('Variable name when taskVia is env (default NDF_TASK).'),
    compensate: argv
      .optional()
      .describe('argv run to undo a completed task (receives the task and its output).'),
  })
  .strict();

/** An agent implemented by a JS/TS module exporting `handler` (and optionally `compensate`). */
export const moduleAgentSpecSchema = z
  .object({
    kind: z.literal('module'),
    description,
    capabilities,
    maxConcurrent,
    breaker: agentBreaker(),
    module: z.string().min(1).describe('Path of a .js/.mjs/.ts file, relative to the workflow file.'),
    export: z
      .string()
      .min(1)
      .optional()
      .describe('Name of the handler export (default `handler`, else default).'),
  })
  .strict();

/** The name of an environment variable. */
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name');

/**
 * A remote agent reached over NATS with the protocol of docs/protocol.md (`ndf agent` serves one).
 * Secrets are named by variable (`tokenEnv`, `passwordEnv`) or file, never written in the file;
 * no NATS_* variable is used unless named here (a workflow file from elsewhere cannot send your
 * token to a server of its choosing).
 */
export const natsAgentSpecSchema = z
  .object({
    kind: z.literal('nats'),
    description,
    capabilities,
    maxConcurrent,
    breaker: agentBreaker(),
    servers: z
      .union([z.string(), z.array(z.string()).min(1)])
      .optional()
      .describe('Default nats://127.0.0.1:4222.'),
    agentId: z
      .string()
      .regex(/^[-\w]+$/, 'letters, digits, - and _ only')
      .optional()
      .describe('Name of the remote agent service (`ndf agent --name`; default: this key).'),
    prefix: z.string().min(1).optional().describe('Subject prefix of the protocol (default nd).'),
    tokenEnv: envName
      .optional()
      .describe('Variable holding the token (e.g. NATS_TOKEN); never the token itself.'),
    user: z.string().min(1).optional().describe('User name (with passwordEnv).'),
    passwordEnv: envName.optional().describe('Variable holding the password of `user`.'),
    nkeyFile: z
      .string()
      .min(1)
      .optional()
      .describe('File holding an NKey user seed (SU…), relative to the workflow file.'),
    credsFile: z.string().min(1).optional().describe('NATS .creds file, relative to the workflow file.'),
    tls: z
      .object({
        caFile: z.string().min(1).optional().describe('CA certificate (PEM) to verify the server.'),
        certFile: z.string().min(1).optional().describe('Client certificate (PEM) for mutual TLS.'),
        keyFile: z.string().min(1).optional().describe('Client key (PEM) for mutual TLS.'),
      })
      .strict()
      .optional()
      .describe('TLS files, relative to the workflow file.'),
    inboxPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'subject tokens joined by dots')
      .optional()
      .describe("Prefix of this client's reply subjects (docs/remote-agents.md, authenticity of replies)."),
    timeoutMs: timeoutMs.describe('Per-request timeout, ms (default 30000).'),
  })
  .strict()
  .refine((spec) => (spec.user === undefined) === (spec.passwordEnv === undefined), {
    message: 'user and passwordEnv go together',
    path: ['passwordEnv'],
  });

/** An agent reached over HTTP: the task JSON is POSTed, the JSON response is the output. */
export const httpAgentSpecSchema = z
  .object({
    kind: z.literal('http'),
    description,
    capabilities,
    maxConcurrent,
    breaker: agentBreaker(),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
      .describe('Endpoint each task is POSTed to (docs/protocol.md, "HTTP agents").'),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe('Extra request headers, e.g. authorization.'),
    timeoutMs: timeoutMs.describe('Per-request timeout, ms (default 30000).'),
  })
  .strict();

/** Any agent of the workflow file, by `kind`. */
export const agentSpecSchema = z.discriminatedUnion('kind', [
  commandAgentSpecSchema,
  moduleAgentSpecSchema,
  natsAgentSpecSchema,
  httpAgentSpecSchema,
]);

/** One agent as declared in the file. */
export type AgentSpec = z.infer<typeof agentSpecSchema>;
