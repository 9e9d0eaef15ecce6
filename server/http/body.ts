// Binary request bodies (safetensors uploads, peer envelopes) read into one buffer of their final
// size. express.raw (raw-body) collects the chunks and concatenates them at the end, so a 100 MB
// model briefly takes 200 MB of memory and every peer message is copied once more; with a
// Content-Length we allocate once and copy each chunk into place as it arrives.

import type { RequestHandler } from 'express';
import { BadInputError, TooLargeError, UnsupportedMediaTypeError } from '../../services/errors.js';

const MEDIA_TYPE = 'application/octet-stream';

/**
 * Sets `req.body` to a Buffer for an application/octet-stream request of at most `limitBytes`;
 * leaves any other request alone (the validator answers 415 where the operation takes no such
 * body), or with `required` answers that 415 itself. Too large: 413 before reading (when declared) or as soon as the limit is passed; a body
 * shorter than its Content-Length (the client went away): 400. On an error the connection is
 * closed rather than drained, so a refused 500 MB upload is not read to its end.
 */
export function binaryBody(limitBytes: number, options: { required?: boolean } = {}): RequestHandler {
  return (req, res, next) => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== MEDIA_TYPE) {
      // `required`: a route that skips the validator answers the 415 the validator would.
      if (!options.required) return next();
      return next(new UnsupportedMediaTypeError(`the body must be ${MEDIA_TYPE}, not ${type || 'missing'}`, { where: 'content-type' }));
    }
    const fail = (err: Error): void => {
      res.setHeader('Connection', 'close');
      req.unpipe();
      req.pause();
      next(err);
    };
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      return fail(new UnsupportedMediaTypeError(`unsupported content encoding ${encoding}; send the bytes as they are`, { where: 'Content-Encoding' }));
    }
    const declared = req.headers['content-length'];
    const length = declared === undefined ? undefined : Number(declared);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
      return fail(new BadInputError('Content-Length is not a byte count', { where: 'Content-Length' }));
    }
    if (length !== undefined && length > limitBytes) {
      return fail(new TooLargeError(`request body of ${length} bytes is larger than ${limitBytes} bytes, the limit`, { where: 'body' }));
    }

    // Known length: one allocation. Chunked: collect, then one concatenation (bounded by the limit).
    const body = length !== undefined ? Buffer.allocUnsafe(length) : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    let done = false;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      if (err) return fail(err);
      req.body = body ?? Buffer.concat(chunks, received);
      // body-parser's mark for "already read", so no later parser tries the spent stream again.
      (req as { _body?: boolean })._body = true;
      next();
    };
    const onData = (chunk: Buffer): void => {
      if (received + chunk.length > (length ?? limitBytes)) {
        // Node frames a body by its Content-Length, so only a chunked body gets here.
        return finish(new TooLargeError(`request body larger than ${limitBytes} bytes, the limit`, { where: 'body' }));
      }
      if (body) chunk.copy(body, received);
      else chunks.push(chunk);
      received += chunk.length;
    };
    const onEnd = (): void => {
      if (length !== undefined && received !== length) {
        return finish(new BadInputError(`the body ended after ${received} of ${length} bytes`, { where: 'body' }));
      }
      finish();
    };
    const onError = (err: Error): void => finish(new BadInputError(`the body could not be read: ${err.message}`, { where: 'body' }));
    const onAborted = (): void => finish(new BadInputError('the client went away before sending the whole body', { where: 'body' }));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  };
}
