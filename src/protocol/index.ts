/**
 * The agent protocol (`natural-delegation/protocol`): versioned zod envelopes for task requests
 * (the one task envelope that command, HTTP and NATS agents all receive), replies and
 * cancellations, and the NATS subjects they travel on. Documented for other languages in
 * docs/protocol.md.
 */
export {
  PROTOCOL_VERSION,
  ProtocolHeader,
  protocolSubjects,
  taskRequestSchema,
  taskReplySchema,
  cancelSchema,
  decodeMessage,
  toTaskRequest,
} from './protocol.js';
export type { TaskRequest, TaskReply, CancelMessage, WireError } from './protocol.js';
