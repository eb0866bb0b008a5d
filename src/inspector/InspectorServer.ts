import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunEvent, RunEventListener } from '../core/events.js';
import type { RunResult } from '../core/result.js';
import { redactText } from '../core/redact.js';
import { statusStyle } from '../diagram/index.js';
import { parseInspectorOptions, type InspectorOptions } from './inspectorOptions.js';
import { loadPage, type PageFile } from './pageFiles.js';
import { RunBook, type BookEntry } from './RunBook.js';
import { RunDiagrams } from './runDiagram.js';
import { lastEventId, sseComment, sseFrame } from './sse.js';
import { stepKey } from './stepNodes.js';

/** Anything that reports RunEvents: a PatternExecutor (`executor.onEvent`). */
export interface RunEventSource {
  onEvent(listener: RunEventListener): () => void;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const RUN_ROUTE = /^\/api\/runs\/([^/]+)(?:\/(diagram|outputs))?$/;

/** JSON text that never throws: values JSON cannot hold (BigInt, cycles) become strings. */
function json(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[circular]';
      seen.add(v);
    }
    return v;
  });
}

/**
 * The live inspector: a local web page (served on node:http) showing every run it hears of,
 * each as its pattern's state diagram coloured by step state, a step table (status, agent,
 * attempts, duration, error, outputs on demand), circuit-breaker states per agent and the event
 * log, pushed to the browser as server-sent events (`GET /events`; a reconnecting browser sends
 * `Last-Event-ID` and gets only what it missed). JSON endpoints: `GET /api/runs`,
 * `/api/runs/:id`, `/api/runs/:id/diagram`, `/api/runs/:id/outputs`, `/api/palette`.
 *
 * Bound to 127.0.0.1 by default; while bound to a loopback address it answers only requests
 * whose `Host` is a loopback name (a page on another site cannot reach it by DNS rebinding).
 * Everything sent has credentials in URLs redacted, as `--trace` files do.
 *
 * @example
 * const inspector = await InspectorServer.start({ port: 4800, patterns: (n) => registry.getPattern(n)?.toSpec() });
 * inspector.watch(executor);
 * const result = await executor.run('etl', {});
 * inspector.record(result); // outputs on demand
 * console.log(inspector.url);
 */
export class InspectorServer {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;
  /** Where it listens (kept: the server forgets it once closed). */
  private bound: AddressInfo = { address: '127.0.0.1', family: 'IPv4', port: 0 };

  private constructor(
    private readonly server: Server,
    private readonly page: Map<string, PageFile>,
    private readonly book: RunBook,
    private readonly diagrams: RunDiagrams,
    private readonly loopback: boolean,
    heartbeatMs: number,
  ) {
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.handle(req, res));
    this.heartbeat = setInterval(() => this.broadcast(sseComment('keep-alive')), heartbeatMs).unref();
  }

  /**
   * Starts serving.
   * @throws PatternValidationError naming the bad option (a port outside 0..65535, an unknown key…)
   * @throws Error (`EADDRINUSE`, `EACCES`…) when the port cannot be bound
   */
  static async start(options: InspectorOptions = {}): Promise<InspectorServer> {
    const o = parseInspectorOptions(options);
    const page = await loadPage();
    const book = new RunBook({ maxRuns: o.maxRuns, maxEventsPerRun: o.maxEventsPerRun });
    const server = createServer();
    const inspector = new InspectorServer(
      server,
      page,
      book,
      new RunDiagrams(o.patterns),
      LOOPBACK.has(o.host),
      o.heartbeatMs,
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => {
        clearInterval(inspector.heartbeat);
        reject(error);
      });
      server.listen(o.port, o.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    inspector.bound = server.address() as AddressInfo;
    return inspector;
  }

  /** `http://host:port/` of the page. */
  get url(): string {
    const { address, family, port } = this.bound;
    return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}/`;
  }

  /** The port it listens on. */
  get port(): number {
    return this.bound.port;
  }

  /** Keeps a RunEvent and pushes it to every open page. */
  publish(event: RunEvent): void {
    const entry = this.book.add(event);
    if (entry !== undefined) this.broadcast(frame(entry));
  }

  /** Keeps a finished run's result, so the page can show its steps' outputs. */
  record(result: RunResult): void {
    this.book.record(result);
    this.broadcast(resultFrame(result.runId));
  }

  /** Publishes every event `source` reports from now on; returns a disposer. */
  watch(source: RunEventSource): () => void {
    return source.onEvent((event) => this.publish(event));
  }

  /** Ends every page's stream and stops listening. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const client of this.clients) client.end();
    this.clients.clear();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private broadcast(text: string): void {
    for (const client of this.clients) client.write(text);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.loopback && !LOOPBACK.has(hostName(req.headers.host))) {
      return send(res, 403, {
        error: `Host ${req.headers.host ?? '(none)'} refused: the inspector answers loopback names only`,
      });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, { error: `${req.method ?? ''} not allowed` });
    }
    const path = new URL(req.url ?? '/', 'http://inspector').pathname;
    const file = this.page.get(path);
    if (file !== undefined) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
      return void res.end(req.method === 'HEAD' ? undefined : file.body);
    }
    if (path === '/events') return this.stream(req, res);
    if (path === '/api/runs') return send(res, 200, this.book.list());
    if (path === '/api/palette') return send(res, 200, statusStyle);
    const match = RUN_ROUTE.exec(path);
    if (match === null) return send(res, 404, { error: `no such page: ${path}` });
    const runId = decodeURIComponent(match[1] ?? '');
    const run = this.book.get(runId);
    if (run === undefined) return send(res, 404, { error: `no run ${runId}` });
    if (match[2] === undefined) return send(res, 200, { summary: run.summary, events: run.events });
    if (match[2] === 'outputs') {
      if (run.result === undefined)
        return send(res, 404, {
          error: `run ${runId}: no outputs recorded (a trace file holds events only)`,
        });
      const outputs = run.result.steps.map((s) => ({ key: stepKey(s.path, s.name), output: s.output }));
      return send(res, 200, { runId, outputs });
    }
    this.diagrams.draw(run.summary.pattern, run.events).then(
      (diagram) => send(res, 200, diagram),
      (error: unknown) => send(res, 500, { error: `diagram of run ${runId}: ${String(error)}` }),
    );
  }

  /**
   * `GET /events`: replays what the browser missed (all, or after Last-Event-ID) and which runs
   * have outputs, then streams.
   */
  private stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(sseComment('natural-delegation inspector'));
    for (const entry of this.book.since(lastEventId(req.headers['last-event-id']))) res.write(frame(entry));
    for (const run of this.book.list()) if (run.hasOutputs) res.write(resultFrame(run.runId));
    this.clients.add(res);
    req.on('close', () => this.clients.delete(res));
  }
}

function frame(entry: BookEntry): string {
  return sseFrame({ id: entry.seq, event: 'run', data: redactText(json(entry.event)) });
}

/** Tells pages that a run's outputs can be fetched (no id: it is not an event to replay). */
function resultFrame(runId: string): string {
  return sseFrame({ event: 'result', data: json({ runId }) });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = redactText(json(body));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
  res.end(text);
}

/** The host name of a `Host` header, without the port (`[::1]:80` → `[::1]`). */
function hostName(header: string | undefined): string {
  if (header === undefined) return '';
  if (header.startsWith('[')) return header.slice(0, header.indexOf(']') + 1);
  const colon = header.lastIndexOf(':');
  return colon === -1 ? header : header.slice(0, colon);
}
