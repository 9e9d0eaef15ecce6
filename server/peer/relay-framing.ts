// Whole large messages for the NATS client's parser (docs/relay.md "What the relay path costs").
//
// nats.js reads its socket in the chunks Node hands it (64 KiB reads) and parses each chunk as it
// comes. A message that spans chunks is gathered by the parser into a buffer that starts as a copy
// of its first chunk and grows by doubling (DenoBuffer._grow: capacity 2c + n, a fresh zero-filled
// allocation and a copy of everything so far at every step). For a 2 MiB SecureFedAvg chunk that
// is about 7.7 MiB allocated and zeroed and 5.6 MiB copied to receive 2 MiB, and the garbage
// collector then finds those buffers. A message that arrives inside one chunk, by contrast, is
// handed on as a view of that chunk, with no copy at all.
//
// So this module puts a framer between the socket and the parser: it follows the NATS protocol's
// framing (NATS "Client Protocol": every operation is a control line ending in CRLF; MSG and HMSG
// end their control line with the total byte count of the payload, headers included, and the
// payload is followed by CRLF), passes every chunk on untouched, and, when a large message starts
// in a chunk that does not hold all of it, holds its bytes back and collects them into one buffer
// of exactly the message's size (allocated once, not zero-filled, each byte copied once). The
// parser then gets the whole message in one piece and hands it on as a view, as for a small one.
//
// How it is plugged in: nats.js chooses its transport through `setTransportFactory` (exported by
// @nats-io/transport-node for exactly this), and `connectFramed` installs a subclass of the
// client's own NodeTransport whose only change is the iterator that feeds the parser. Nothing
// else of nats.js is replaced or patched: the socket, TLS, reconnection and the parser are the
// client's own. The factory is process-wide in nats.js; any other code that connects with
// transport-node's `connect` installs the plain NodeTransport again, which is correct too, only
// slower for large messages.
//
// Sending, the same transport writes a large message from its parts (publishParts): the protocol
// line, the headers and the sealed envelope's parts go to the socket in one corked write, where
// the client's publish would join the payload and pack everything into one fresh buffer first.
// It uses the client's connection state as the client's own flush does (ProtocolHandler:
// connected, outbound, transport; typed in nats-core's declarations) and falls back to publish
// whenever that state is not the expected one.
import { NodeTransport, nodeResolveHost } from '@nats-io/transport-node/lib/node_transport.js';
import { NatsConnectionImpl, setTransportFactory, type MsgHdrs, type MsgHdrsImpl, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';

/**
 * Messages at least this long (payload and its CRLF) that do not arrive inside one socket read are
 * gathered here; smaller ones are left to the parser, whose copies are small for them.
 */
export const GATHER_FROM_BYTES = 64 * 1024;
/**
 * Messages announced as longer than this are left to the parser too: a NATS server allows at most
 * 64 MiB per message (its max_payload ceiling), so a longer count is not a message any relay
 * delivers, and the framer must not reserve memory on a count alone.
 */
export const GATHER_UP_TO_BYTES = 64 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;

/**
 * Cuts the byte stream from a NATS server so that every large MSG/HMSG operation is in one piece.
 * `push(chunk)` returns the pieces to hand to the parser, in order; together they are exactly the
 * bytes pushed so far (less any held back until their message or control line is complete).
 */
export class MessageFramer {
  /** Bytes of a small message's payload (and its CRLF) still to pass through untouched. */
  #skip = 0;
  /** A large message being gathered: control line, payload and CRLF; `#filled` bytes of it so far. */
  #whole: Buffer | undefined;
  #filled = 0;
  /** The start of an operation whose control line is not complete yet (held back). */
  #carry: Buffer | undefined;

  constructor(private readonly gatherFrom = GATHER_FROM_BYTES) {}

  push(chunk: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    let buf: Uint8Array = chunk;
    if (this.#carry !== undefined) {
      // Rare (a control line cut by a socket read) and small: a control line is at most a few
      // hundred bytes, so joining costs one copy of this chunk.
      buf = Buffer.concat([this.#carry, chunk]);
      this.#carry = undefined;
    }
    let i = 0;
    if (this.#whole !== undefined) {
      const whole = this.#whole;
      const n = Math.min(whole.length - this.#filled, buf.length);
      whole.set(buf.subarray(0, n), this.#filled);
      this.#filled += n;
      if (this.#filled < whole.length) return out;
      out.push(whole);
      this.#whole = undefined;
      i = n;
    }
    const start = i;
    while (i < buf.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, buf.length - i);
        i += n;
        this.#skip -= n;
        continue;
      }
      const eol = buf.indexOf(LF, i);
      if (eol < 0) {
        if (i > start) out.push(buf.subarray(start, i));
        this.#carry = Buffer.from(buf.subarray(i));
        return out;
      }
      const size = messageSize(buf, i, eol);
      if (size < 0) {
        i = eol + 1; // INFO, PING, PONG, +OK, -ERR: the control line is the whole operation
        continue;
      }
      const end = eol + 1 + size + 2;
      if (end <= buf.length) {
        i = end;
        continue;
      }
      if (size + 2 < this.gatherFrom || size > GATHER_UP_TO_BYTES) {
        this.#skip = end - buf.length;
        i = buf.length;
        continue;
      }
      // A large message that continues in later reads: everything before it goes on now, the
      // message itself once it is whole. allocUnsafeSlow: its own memory (not the small-buffer
      // pool), not zero-filled, since every byte is written before it is read.
      if (i > start) out.push(buf.subarray(start, i));
      const whole = Buffer.allocUnsafeSlow(end - i);
      whole.set(buf.subarray(i));
      this.#whole = whole;
      this.#filled = buf.length - i;
      return out;
    }
    if (start < buf.length) out.push(start === 0 ? buf : buf.subarray(start));
    return out;
  }
}

/**
 * The payload length (headers included) a MSG or HMSG control line at buf[from..eol] announces: its
 * last field. -1 for any other operation. A malformed count is left to the parser (it refuses it).
 */
function messageSize(buf: Uint8Array, from: number, eol: number): number {
  const first = buf[from]! | 0x20; // lower case
  if (first !== 0x6d /* m */ && first !== 0x68 /* h */) return -1;
  let end = eol;
  if (end > from && buf[end - 1] === CR) end -= 1;
  let size = 0;
  let scale = 1;
  let k = end - 1;
  for (; k > from && buf[k] !== SPACE; k--) {
    const digit = buf[k]! - 0x30;
    if (digit < 0 || digit > 9 || scale > 1e12) return -1;
    size += digit * scale;
    scale *= 10;
  }
  return scale === 1 ? -1 : size;
}

/**
 * The client's NodeTransport, feeding its parser through a MessageFramer (one per connection), and
 * able to write one message's pieces without joining them (publishParts).
 */
class FramedTransport extends NodeTransport {
  override async *iterate(): AsyncIterableIterator<Uint8Array> {
    const framer = new MessageFramer();
    for await (const chunk of super.iterate()) {
      for (const piece of framer.push(chunk)) yield piece;
    }
  }

  /**
   * Writes the pieces in order as one corked write: Node hands them to the kernel in one writev,
   * each from its own memory. A write error surfaces as the socket's 'error' and 'close', which
   * the client's own handlers turn into a disconnect, as for its own writes.
   */
  writePieces(pieces: readonly Uint8Array[]): void {
    const socket = this.socket;
    socket.cork();
    for (const piece of pieces) socket.write(piece);
    socket.uncork();
  }
}

const CRLF = Buffer.from('\r\n', 'latin1');

/**
 * Publishes one message whose payload is `parts`, in order, with headers and a reply subject (NATS
 * HPUB), by writing the frame's pieces to the socket as they are: its protocol line, the encoded
 * headers, every part and the closing CRLF. The client's `publish` takes the payload in one
 * buffer (a sealed envelope is in parts: its sender would join them, one copy) and then packs the
 * protocol line, headers and payload into a fresh zero-filled buffer before writing it
 * (DataBuffer.pack, a second copy); for a SecureFedAvg chunk that is 4 MiB copied and 2 MiB of
 * fresh pages per 2 MiB sent. The bytes on the wire are the same.
 *
 * Order: whatever the client has queued but not written yet (its outbound buffer, flushed once
 * per microtask turn) is written first, so the socket carries the messages in the order they were
 * published, as through `publish`. Returns false, having written nothing, when the connection is
 * not in a state to write now (not through this module's transport, not connected, draining): the
 * caller then publishes through the client, which buffers or refuses as it does.
 */
export function publishParts(nc: NatsConnection, subject: string, reply: string, headers: MsgHdrs, parts: readonly Uint8Array[]): boolean {
  const protocol = (nc as NatsConnectionImpl).protocol;
  const transport = protocol?.transport;
  if (!(transport instanceof FramedTransport) || !protocol.connected || !protocol.infoReceived || protocol.noMorePublishing || transport.isClosed) return false;
  const head = (headers as MsgHdrsImpl).encode();
  let length = head.byteLength;
  for (const part of parts) length += part.byteLength;
  const maxPayload = protocol.info?.max_payload;
  if (maxPayload !== undefined && length > maxPayload) throw new RangeError(`a message of ${length} bytes exceeds the relay's max_payload of ${maxPayload}`);
  if (protocol.outbound.size() > 0) transport.send(protocol.outbound.drain());
  // The client's counters (nc.stats()) count this message as if it had been published through it.
  protocol.outMsgs += 1;
  protocol.outBytes += length;
  transport.writePieces([Buffer.from(`HPUB ${subject} ${reply} ${head.byteLength} ${length}\r\n`, 'latin1'), head, ...parts, CRLF]);
  return true;
}

/** transport-node's `connect`, with the framed transport. */
export function connectFramed(options: NodeConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new FramedTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(options);
}
