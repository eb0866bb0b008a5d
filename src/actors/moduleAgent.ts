import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { PatternValidationError } from '../core/errors.js';
import { parseWith } from '../core/validate.js';
import type { Agent, AgentTask, CompensationTask } from '../core/agent.js';

/** A module agent's task handler: its return value (or resolved value) is the step output. */
export type ModuleHandler = (task: AgentTask) => unknown;
/** A module agent's compensation: undoes a completed task. */
export type ModuleCompensate = (task: CompensationTask) => unknown;

/** Options of {@link loadModuleAgent}, validated with zod. */
export const moduleAgentOptionsSchema = z
  .object({
    id: z.string().min(1),
    capabilities: z.array(z.string().min(1)).min(1),
    maxConcurrent: z.number().int().min(1).default(16),
    /** Absolute path of a .js/.mjs/.ts/.mts file. */
    module: z.string().min(1),
    /** Name of the handler export; default `handler`, else the default export. */
    export: z.string().min(1).optional(),
    /** Where the options came from, for error messages (e.g. `agents.loader`). */
    source: z.string().optional(),
  })
  .strict();
/** Options of {@link loadModuleAgent} (see {@link moduleAgentOptionsSchema}). */
export type ModuleAgentOptions = z.input<typeof moduleAgentOptionsSchema>;

const fn = <T>(): z.ZodType<T> => z.custom<T>((value) => typeof value === 'function', 'must be a function');
const handlerObjectSchema = z.looseObject({
  handler: fn<ModuleHandler>(),
  compensate: fn<ModuleCompensate>().optional(),
});
const moduleShapeSchema = z.looseObject({
  default: z.unknown().optional(),
  compensate: fn<ModuleCompensate>().optional(),
});

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

type ScopedImport = (specifier: string, parentUrl: string) => Promise<unknown>;
let tsImporter: Promise<ScopedImport> | undefined;

/** One tsx loader (a namespaced hook, registered once) for every TypeScript module agent. */
function typeScriptImporter(): Promise<ScopedImport> {
  tsImporter ??= import('tsx/esm/api').then(
    ({ register }) => register({ namespace: 'ndf-module-agents' }).import,
    (error: unknown) => {
      // tsx is a dev dependency: a published install runs JavaScript agents without it
      if ((error as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw error;
      throw new Error(
        'TypeScript module agents need tsx: run `npm install tsx` (or compile the agent to .js)',
      );
    },
  );
  return tsImporter;
}

/**
 * Imports a module (TypeScript through tsx) and resolves with its namespace.
 * @throws PatternValidationError naming `field` when the file is missing or throws at import
 */
export async function importModule(file: string, field: string): Promise<Record<string, unknown>> {
  if (!existsSync(file)) {
    throw new PatternValidationError(`${field}: module "${file}" does not exist`, { field });
  }
  const url = pathToFileURL(file).href;
  try {
    if (TS_EXTENSIONS.has(path.extname(file))) {
      const tsImport = await typeScriptImporter();
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PatternValidationError(`${field}: module "${file}" failed to load: ${why}`, { field }, error);
  }
}

/** Picks the handler (and compensation) out of a module namespace. */
function pickHandlers(
  ns: Record<string, unknown>,
  exportName: string | undefined,
  field: string,
): { handler: ModuleHandler; compensate?: ModuleCompensate | undefined } {
  const shape = parseWith(moduleShapeSchema, ns, field);
  const named = ns[exportName ?? 'handler'];
  if (typeof named === 'function') return { handler: named as ModuleHandler, compensate: shape.compensate };
  if (exportName === undefined) {
    if (typeof shape.default === 'function')
      return { handler: shape.default as ModuleHandler, compensate: shape.compensate };
    const obj = handlerObjectSchema.safeParse(shape.default);
    if (obj.success)
      return { handler: obj.data.handler, compensate: obj.data.compensate ?? shape.compensate };
  }
  const wanted =
    exportName === undefined ? 'a `handler` function (or a default export)' : `a function \`${exportName}\``;
  throw new PatternValidationError(`${field}: module does not export ${wanted}`, { field });
}

/**
 * Loads a module agent: a JS/TS file exporting `handler(task)` (or a default function, or a
 * default `{ handler, compensate }`), and optionally `compensate(task)`. The file is imported
 * once, here, so a module that throws at import fails the load, not the run.
 *
 * @throws PatternValidationError naming the file and field when it cannot be loaded
 * @example
 * const agent = await loadModuleAgent({ id: 'loader', capabilities: ['load'], module: '/abs/agents/load.ts' });
 */
export async function loadModuleAgent(options: ModuleAgentOptions): Promise<Agent> {
  const opts = parseWith(moduleAgentOptionsSchema, options, `module agent ${options.id}`);
  const field = `${opts.source ?? `agent ${opts.id}`}.module`;
  const ns = await importModule(opts.module, field);
  const { handler, compensate } = pickHandlers(ns, opts.export, field);
  const agent: Agent = {
    id: opts.id,
    capabilities: opts.capabilities,
    maxConcurrent: opts.maxConcurrent,
    kind: 'module',
    execute: async (task) => handler(task),
  };
  return compensate ? { ...agent, compensate: async (task) => void (await compensate(task)) } : agent;
}
