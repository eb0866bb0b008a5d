/**
 * The wire protocol of remote agents (`natural-delegation/protocol`): versioned zod envelopes
 * for task requests, replies and cancellations, and the subjects they travel on. Documented
 * for other languages in docs/protocol.md.
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
