// The client API (tag `representations`): the Federated Secure Computing v0.6 representation
// operations, each a call on the bus (server/bus.ts).

import type { Response } from 'express';
import { BadInputError, NotAcceptableError } from '../../../services/errors.js';
import { TensorSet } from '../../../services/common/tensors.js';
import { floatSpecOf, writeResultJson } from '../../../services/common/resultjson.js';
import type { HandlerMap } from '../operations.js';
import type { HandlerDeps } from './context.js';

type RepresentationHandlers = Pick<
  HandlerMap,
  | 'listRepresentations'
  | 'createRepresentation'
  | 'uploadRepresentation'
  | 'downloadRepresentation'
  | 'callRepresentation'
  | 'releaseRepresentation'
  | 'createAttribute'
>;

export function representationHandlers({ bus, jsonDownloadValues }: Pick<HandlerDeps, 'bus' | 'jsonDownloadValues'>): RepresentationHandlers {
  return {
    listRepresentations(_req, res) {
      res.json({ type: 'list', list: bus.list() });
    },
    createRepresentation(req, res) {
      const { args, kwargs } = argsKwargs(req.body);
      if (args.length > 0) {
        throw new BadInputError('create takes its requirements as keyword arguments only', { where: 'args' });
      }
      res.json({ type: 'uuid', uuid: bus.create(kwargs) });
    },
    uploadRepresentation(req, res) {
      if (req.is('application/octet-stream')) {
        if (!Buffer.isBuffer(req.body)) throw new BadInputError('the body must be a safetensors file', { where: 'body' });
        res.json({ type: 'uuid', uuid: bus.upload(TensorSet.parseSafetensors(req.body)) });
        return;
      }
      const { args } = argsKwargs(req.body);
      res.json({ type: 'uuid', uuid: bus.upload(args[0]) });
    },
    downloadRepresentation(req, res) {
      const found = bus.download(uuidParam(req.params));
      const wantsBinary = req.accepts(['application/json', 'application/octet-stream']) === 'application/octet-stream';
      if (wantsBinary) {
        if (found.kind !== 'tensors') {
          throw new NotAcceptableError('only named tensors can be downloaded as application/octet-stream');
        }
        // Written chunk by chunk (header, then each tensor's bytes): no second copy of a large model.
        const chunks = found.value.safetensorsChunks();
        res.type('application/octet-stream');
        res.setHeader('Content-Length', chunks.reduce((n, c) => n + c.byteLength, 0));
        for (const chunk of chunks) res.write(chunk);
        res.end();
        return;
      }
      if (found.kind === 'tensors' && found.value.parameterCount > jsonDownloadValues) {
        throw new NotAcceptableError(
          `these tensors hold ${found.value.parameterCount} values, more than ${jsonDownloadValues} (--max-json-download) for a JSON download; ask for safetensors with "Accept: application/octet-stream"`,
          { where: 'Accept' },
        );
      }
      if (found.kind === 'json' && floatSpecOf(found.value) !== undefined) {
        // A result with float-typed fields (SIMON's counts and statistics): written so that `6.0`
        // stays a float for clients that tell ints from floats (services/common/resultjson.ts).
        // An ObjectResponse already serialised, hence the untyped send.
        (res as Response).type('application/json').send(`{"type":"object","object":${writeResultJson(found.value)}}`);
        return;
      }
      res.json({ type: 'object', object: found.kind === 'tensors' ? found.value.toJson() : found.value });
    },
    async callRepresentation(req, res) {
      const { args, kwargs } = argsKwargs(req.body);
      const uuid = await bus.call(uuidParam(req.params), args, kwargs, clientGone(res));
      res.json(uuid === undefined ? { type: 'none' } : { type: 'uuid', uuid });
    },
    releaseRepresentation(req, res) {
      bus.release(uuidParam(req.params));
      res.json({ type: 'none' });
    },
    createAttribute(req, res) {
      const name = req.params.attribute_name;
      if (name === undefined) throw new BadInputError('attribute_name is required', { where: 'attribute_name' });
      res.json({ type: 'uuid', uuid: bus.attribute(uuidParam(req.params), name) });
    },
  };
}

function argsKwargs(body: unknown): { args: unknown[]; kwargs: Record<string, unknown> } {
  // The validator has checked the shape; missing members default as the model's server does.
  const b = (body ?? {}) as { args?: unknown[]; kwargs?: Record<string, unknown> };
  return { args: b.args ?? [], kwargs: b.kwargs ?? {} };
}

function uuidParam(params: { representation_uuid?: string }): string {
  const uuid = params.representation_uuid;
  if (uuid === undefined) throw new BadInputError('representation_uuid is required', { where: 'representation_uuid' });
  return uuid;
}

/** Aborts when the client goes away before the answer is written (e.g. a cancelled long wait). */
function clientGone(res: Response): AbortSignal {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort(new Error('client went away'));
  });
  return controller.signal;
}
