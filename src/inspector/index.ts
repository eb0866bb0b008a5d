/**
 * The live inspector (`natural-delegation/inspector`): a local web page showing runs as they
 * happen, fed by an executor's RunEvents over server-sent events, or finished runs from a trace.
 */
export { InspectorServer, type RunEventSource } from './InspectorServer.js';
export {
  inspectorOptionsSchema,
  parseInspectorOptions,
  parsePortText,
  type InspectorOptions,
} from './inspectorOptions.js';
export { registrySpecs } from './registrySpecs.js';
export { RunBook, type BookEntry, type RunSummary, type RunBookLimits } from './RunBook.js';
export { RunDiagrams, type RunDiagram, type SpecLookup } from './runDiagram.js';
export { sseFrame, sseComment, lastEventId, type SseMessage } from './sse.js';
export { stepKey, stepNodeOf, stepNodes, type StepNode } from './stepNodes.js';
export { JournalReplay } from './journalEvents.js';
export { StoreFeed, type StoreFeedOptions, type StoreFeedTarget } from './storeFeed.js';
