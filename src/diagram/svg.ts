import type { Graphviz } from '@hpcc-js/wasm-graphviz';

let loading: Promise<Graphviz> | undefined;

/**
 * Loads the Graphviz WASM module once per process, on first use: importing this file costs
 * nothing (the module, about 1 MB with the WASM inlined, is imported dynamically).
 */
function graphviz(): Promise<Graphviz> {
  loading ??= import('@hpcc-js/wasm-graphviz').then((m) => m.Graphviz.load());
  return loading;
}

/**
 * Renders Graphviz DOT to an SVG document with the `dot` layout, offline (Graphviz compiled to
 * WASM by @hpcc-js/wasm-graphviz; the module is loaded on the first call and reused).
 *
 * @throws Error with Graphviz's message when the DOT text has a syntax error.
 * @example
 * const svg = await renderSvg(toDot(fromMachine(stepMachine)));
 * await writeFile('step.svg', svg);
 */
export async function renderSvg(dot: string): Promise<string> {
  const gv = await graphviz();
  return gv.dot(dot, 'svg');
}
