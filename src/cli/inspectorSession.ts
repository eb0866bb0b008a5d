import pc from 'picocolors';
import type { RunEventSource } from '../inspector/InspectorServer.js';
import type { InspectorServer, SpecLookup } from '../inspector/index.js';
import { isPatternValidationError } from '../core/errors.js';
import type { RunResult } from '../core/result.js';
import { UsageError } from './exit.js';
import { STOP_SIGNALS } from './signals.js';

/**
 * The inspector as the `ndf` commands use it: started on 127.0.0.1, its address printed, served
 * until a stop signal. The inspector module is imported only when asked for.
 */

/**
 * The port of `--inspect [port]` / `--port <n>`: `true` (no value) or undefined means any free port.
 * @throws UsageError naming `flag` when the value is not a port number (0..65535)
 */
export async function inspectorPort(value: string | boolean | undefined, flag: string): Promise<number> {
  if (value === undefined || value === true || value === false) return 0;
  const { parsePortText } = await import('../inspector/index.js');
  try {
    return parsePortText(value, flag);
  } catch (error) {
    if (isPatternValidationError(error)) throw new UsageError(error.message.replace(/^Invalid /, ''));
    throw error;
  }
}

/**
 * Starts the inspector on 127.0.0.1:`port`, fed by `source` when given; prints its address on
 * `out` (stderr for `ndf run`, whose stdout may be `--json`).
 * @throws UsageError when the port cannot be bound (in use, or privileged)
 */
export async function startInspector(
  port: number,
  patterns: SpecLookup | undefined,
  source: RunEventSource | undefined,
  out: NodeJS.WritableStream,
): Promise<InspectorServer> {
  const { InspectorServer } = await import('../inspector/index.js');
  let inspector: InspectorServer;
  try {
    inspector = await InspectorServer.start({ port, ...(patterns ? { patterns } : {}) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES')
      throw new UsageError(
        `inspector: cannot listen on 127.0.0.1:${port} (${code}); choose another port, or 0 for any`,
      );
    throw error;
  }
  if (source) inspector.watch(source);
  out.write(`${pc.cyan('inspector')} ${inspector.url}\n`);
  return inspector;
}

/**
 * Keeps serving until SIGINT, SIGTERM or SIGHUP, then closes the inspector; records `result`
 * first so the page can show its outputs.
 */
export async function serveUntilStopped(
  inspector: InspectorServer,
  note: string,
  out: NodeJS.WritableStream,
  result?: RunResult,
): Promise<NodeJS.Signals> {
  if (result) inspector.record(result);
  out.write(`${pc.cyan('inspector')} ${note}: ${inspector.url} (Ctrl-C to stop)\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const stop = (s: NodeJS.Signals): void => {
      for (const name of STOP_SIGNALS) process.removeListener(name, stop);
      resolve(s);
    };
    for (const name of STOP_SIGNALS) process.on(name, stop);
  });
  await inspector.close();
  return signal;
}
