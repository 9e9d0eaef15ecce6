// The peer channel's frames: request/answer pairs with ids, multiplexed on one WebSocket
// (RFC 6455) between two servers. Each frame is one binary WebSocket message:
//
//   request  [kind: u8 = DELIVER | IDENTITY][id: u32 BE][body]
//            DELIVER: body is one sealed envelope, exactly the bytes POST /peer/messages carries;
//            IDENTITY: body is the challenge (base64url text), as in GET /peer/identity?challenge=,
//                      then `.` and the asker's public key when the request names one (&asker=)
//   answer   [kind: u8 = ANSWER][id: u32 BE][status: u16 BE][text: UTF-8]
//            status and text are what the HTTP route would answer (204 and nothing for a delivered
//            envelope, 200 and the identity JSON, or an error status and its problem document).
//
// The frames carry nothing the HTTP routes do not: the envelope authenticates itself (envelope.ts)
// and the identity answer is checked by the directory (directory.ts) whatever carried it.

export const CHANNEL_PATH = '/peer/channel';

export const FRAME_DELIVER = 1;
export const FRAME_IDENTITY = 2;
export const FRAME_ANSWER = 3;

export const REQUEST_HEADER_BYTES = 5;
export const ANSWER_HEADER_BYTES = 7;

/**
 * Largest request frame a channel carries: an envelope of FedAvg's 1 MiB chunks with ample room. Larger envelopes go by POST, whose in-flight guard reserves their declared length before
 * reading them (server/http/body.ts); so what a channel can make its receiver hold before a frame is
 * whole stays bounded by channels × this (channel-server.ts).
 */
export const MAX_CHANNEL_REQUEST_BYTES = 5 * 1024 * 1024;
/** Answers are identities and problem documents: small. */
export const MAX_CHANNEL_ANSWER_BYTES = 64 * 1024;

export type RequestKind = typeof FRAME_DELIVER | typeof FRAME_IDENTITY;

/**
 * A request frame: the header, then the body, given whole or as the parts it was sealed in
 * (envelope.ts sealParts), copied once behind the header (no joined body first).
 */
export function requestFrame(kind: RequestKind, id: number, body: Uint8Array | readonly Uint8Array[]): Buffer {
  const parts: readonly Uint8Array[] = Array.isArray(body) ? body : [body as Uint8Array];
  let length = REQUEST_HEADER_BYTES;
  for (const part of parts) length += part.byteLength;
  const frame = Buffer.allocUnsafe(length);
  frame[0] = kind;
  frame.writeUInt32BE(id, 1);
  let offset = REQUEST_HEADER_BYTES;
  for (const part of parts) {
    frame.set(part, offset);
    offset += part.byteLength;
  }
  return frame;
}

/**
 * The head of a client's WebSocket message (RFC 6455 §5.2) carrying one request frame whose body
 * follows as parts: FIN and the binary opcode, the payload length (header + body), the mask bit
 * with a zero masking key (transport-channel.ts zeroMask: the payload goes unmasked), then the
 * request header. Written to the socket before the body's parts, in one corked write, it puts on
 * the wire exactly what `ws.send(requestFrame(kind, id, parts))` puts there, without the copy.
 */
export function maskedRequestHead(kind: RequestKind, id: number, bodyBytes: number): Buffer {
  const payload = REQUEST_HEADER_BYTES + bodyBytes;
  const lengthBytes = payload < 126 ? 0 : payload < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + 4 + REQUEST_HEADER_BYTES);
  head[0] = 0x82; // FIN, binary
  if (lengthBytes === 0) head[1] = 0x80 | payload;
  else if (lengthBytes === 2) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(payload, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeUIntBE(payload, 4, 6); // the upper two bytes stay 0: frames are at most a few MiB
  }
  // The masking key (4 bytes) stays zero.
  const at = 2 + lengthBytes + 4;
  head[at] = kind;
  head.writeUInt32BE(id, at + 1);
  return head;
}

export function answerFrame(id: number, status: number, text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const frame = Buffer.allocUnsafe(ANSWER_HEADER_BYTES + body.length);
  frame[0] = FRAME_ANSWER;
  frame.writeUInt32BE(id, 1);
  frame.writeUInt16BE(status, 5);
  body.copy(frame, ANSWER_HEADER_BYTES);
  return frame;
}

export interface ParsedRequest {
  readonly kind: RequestKind;
  readonly id: number;
  readonly body: Buffer;
}

/** A request frame, or undefined when it is not one (the channel is then closed: a broken peer). */
export function parseRequest(frame: Buffer): ParsedRequest | undefined {
  if (frame.length < REQUEST_HEADER_BYTES) return undefined;
  const kind = frame[0];
  if (kind !== FRAME_DELIVER && kind !== FRAME_IDENTITY) return undefined;
  return { kind, id: frame.readUInt32BE(1), body: frame.subarray(REQUEST_HEADER_BYTES) };
}

export interface ParsedAnswer {
  readonly id: number;
  readonly status: number;
  readonly text: string;
}

export function parseAnswer(frame: Buffer): ParsedAnswer | undefined {
  if (frame.length < ANSWER_HEADER_BYTES || frame[0] !== FRAME_ANSWER) return undefined;
  return { id: frame.readUInt32BE(1), status: frame.readUInt16BE(5), text: frame.subarray(ANSWER_HEADER_BYTES).toString('utf8') };
}
