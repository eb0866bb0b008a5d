import type { ResourceSource, ResourceUsage } from '../../src/runtime/resources/ResourceMonitor.js';

/** A source whose figures the test sets; counts host readings. */
export function scriptedSource(usage: Partial<ResourceUsage> = {}) {
  const state = {
    usage: { cpu: 0, memory: 0, diskIo: 0, network: 0, ...usage },
    rss: 100,
    cpuMs: 0,
    readings: 0,
    rssReads: 0,
  };
  const source: ResourceSource = {
    usage: () => {
      state.readings += 1;
      return state.usage;
    },
    processRssBytes: () => {
      state.rssReads += 1;
      return state.rss;
    },
    cpuTimeMs: () => state.cpuMs,
  };
  return { state, source };
}
