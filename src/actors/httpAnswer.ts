import { z } from 'zod';
import { AgentError, PatternValidationError, type ErrorDetails, type PatternError } from '../core/errors.js';
import { fromWireError, wireErrorSchema } from '../protocol/protocol.js';

/** An HTTP agent's answer, its body read up to the size limit. */
export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly location: string | null;
  /** The body as UTF-8 text; for a failed status, only its first `maxBytes`. */
  readonly text: string;
}

/**
 * Reads `response`'s body, at most `maxBytes` of it (counted as they arrive, so an endless or
 * huge body costs no more memory than the limit). A 2xx body over the limit aborts the request
 * through `controller` and fails; for any other status only the start is kept, because the
 * status says what happened and a proxy's error page may well be large.
 * @throws PatternValidationError (field `output`, not retryable) for a 2xx body over `maxBytes`
 */
export async function readAnswer(
  response: Response,
  maxBytes: number,
  controller: AbortController,
  details: ErrorDetails & { agentId: string },
): Promise<HttpAnswer> {
  const ok = response.status >= 200 && response.status < 300;
  const tooLarge = () => {
    controller.abort();
    return new PatternValidationError(
      `answer of http agent ${details.agentId} to ${details.step ?? '?'} is over the ${maxBytes}-byte limit`,
      { ...details, field: 'output', retryable: false },
    );
  };
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (ok && declared > maxBytes) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      if (ok) throw tooLarge();
      chunks.push(value.subarray(0, maxBytes - size));
      size = maxBytes;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return {
    status: response.status,
    statusText: response.statusText,
    location: response.headers.get('location'),
    text: Buffer.concat(chunks, size).toString('utf8'),
  };
}

/** The body of a failed answer that says what went wrong; anything else is reported by status. */
const errorBodySchema = z.object({ error: wireErrorSchema.partial({ retryable: true }) });

/** Statuses worth retrying (RFC 9110 §15: 408, 5xx; RFC 8470: 425; RFC 6585: 429), except 501. */
function retryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status !== 501);
}

/**
 * The step's output for a 2xx answer (its JSON body; an empty or blank body is `null`).
 * @throws AgentError for a redirect (not followed, not retryable), a 2xx body that is not JSON
 * (not retryable), or a failed status: the error its body describes
 * (`{"error": {"code", "message", "retryable"?}}`), else one naming the status
 */
export function outputOf(answer: HttpAnswer, details: ErrorDetails & { agentId: string }): unknown {
  const who = `http agent ${details.agentId}`;
  const status = `${answer.status}${answer.statusText ? ` ${answer.statusText}` : ''}`;
  if (answer.status >= 300 && answer.status < 400)
    throw new AgentError(
      `${who} answered ${status}${answer.location ? ` (to ${answer.location})` : ''}: redirects are not followed, set the agent's url to the final endpoint`,
      { ...details, retryable: false },
    );
  if (answer.status < 200 || answer.status >= 300) throw statusError(answer, status, who, details);
  if (answer.text.trim() === '') return null;
  try {
    return JSON.parse(answer.text) as unknown;
  } catch (error) {
    throw new AgentError(
      `${who} answered ${details.step ?? '?'} with a body that is not JSON: ${excerpt(answer.text)}`,
      { ...details, retryable: false },
      error,
    );
  }
}

function statusError(answer: HttpAnswer, status: string, who: string, details: ErrorDetails): PatternError {
  const retryable = retryableStatus(answer.status);
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch {
    json = undefined;
  }
  const parsed = errorBodySchema.safeParse(json);
  if (parsed.success) {
    const { error } = parsed.data;
    return fromWireError({ ...error, retryable: error.retryable ?? retryable }, details);
  }
  return new AgentError(`${who} answered ${status}${answer.text ? `: ${excerpt(answer.text)}` : ''}`, {
    ...details,
    retryable,
  });
}

/** The first 200 characters of `text`, whitespace collapsed. */
function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}
