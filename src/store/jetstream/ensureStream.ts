/**
 * Creates a stream when missing; when it exists, checks that the settings the caller asked for
 * hold, so an option is never silently ignored because the stream was made earlier with others.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { PatternValidationError } from '../../core/errors.js';

/** A setting to hold on the stream: its config key, the value wanted, and the option that asked for it. */
export interface StreamExpectation {
  key: 'storage' | 'num_replicas' | 'retention' | 'duplicate_window';
  value: string | number;
  /** The option that set it, e.g. `WorkQueue.options.duplicateWindowMs`; undefined: a default. */
  option: string | undefined;
}

/**
 * Adds `config` when the stream does not exist. When it does, its subjects must include
 * `config.subjects` and every expectation given by an option must hold.
 * @throws PatternValidationError naming the option when an existing stream differs from it
 * @throws the client's error when JetStream refuses or does not answer
 */
export async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string; subjects: string[] },
  expectations: readonly StreamExpectation[],
): Promise<void> {
  let existing: StreamConfig;
  try {
    existing = (await jsm.streams.info(config.name)).config;
  } catch (error) {
    if (!(error instanceof JetStreamApiError) || error.code !== JetStreamApiCodes.StreamNotFound) throw error;
    await jsm.streams.add(config);
    return;
  }
  const missing = config.subjects.filter((s) => !existing.subjects?.includes(s));
  if (missing.length > 0) {
    throw new PatternValidationError(
      `Stream ${config.name} exists without subjects ${missing.join(', ')} (it has ${existing.subjects?.join(', ')})`,
      { field: 'stream' },
    );
  }
  for (const e of expectations) {
    const actual = existing[e.key] as unknown;
    if (e.option !== undefined && actual !== e.value) {
      throw new PatternValidationError(
        `Stream ${config.name} exists with ${e.key} ${String(actual)}, not the ${String(e.value)} asked by ${e.option}`,
        { field: e.option },
      );
    }
  }
}
