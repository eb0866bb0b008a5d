/**
 * The real Mermaid parser for tests: `mermaid.parse()` needs a DOM (DOMPurify), so it runs in
 * a jsdom window. Both are dev dependencies (`mermaid@^11.17.2 jsdom@^29.1.1`: mermaid 12 and
 * jsdom 30 need Node 22). They are imported by a computed name so the type-check does not need them.
 */
interface MermaidApi {
  initialize(config: Record<string, unknown>): void;
  parse(text: string, options?: { suppressErrors?: boolean }): Promise<{ diagramType: string } | false>;
}
interface JsdomModule {
  JSDOM: new (html: string) => { window: { document: unknown } };
}

let loading: Promise<MermaidApi> | undefined;

/** Imports a dev dependency by a computed name, saying how to install it when it is missing. */
async function importDev(name: string): Promise<unknown> {
  try {
    return (await import(name)) as unknown;
  } catch (error) {
    throw new Error(`${name} is needed to check Mermaid output: npm i -D mermaid@^11.17.2 jsdom@^29.1.1`, {
      cause: error,
    });
  }
}

async function load(): Promise<MermaidApi> {
  const { JSDOM } = (await importDev('jsdom')) as JsdomModule;
  const dom = new JSDOM('<!doctype html><html><body></body></html>');
  Object.assign(globalThis, { window: dom.window, document: dom.window.document });
  const mod = (await importDev('mermaid')) as { default: MermaidApi };
  mod.default.initialize({ startOnLoad: false });
  return mod.default;
}

/**
 * Parses Mermaid text and returns the diagram type (`stateDiagram`).
 * @throws the parser's error (with line and expected tokens) on malformed text.
 */
export async function parseMermaid(text: string): Promise<string> {
  loading ??= load();
  const result = await (await loading).parse(text);
  if (result === false) throw new Error('mermaid rejected the diagram');
  return result.diagramType;
}
