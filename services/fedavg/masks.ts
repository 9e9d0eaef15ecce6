// Which mask terms a SecureFedAvg party applies, expanded by one function (services/fedavg/
// protocol.ts decides the terms; this file only turns a list of {seed, sign} into one mask).
//
// Every term is the AES-256-CTR keystream of its seed under one label (services/common/prg.ts),
// read as a ring vector over the FLAT model: element e of the model is masked by the keystream
// bytes at offset e·k/8. So any range [start, end) can be expanded on its own — setup expands
// chunk by chunk, and a segment holder that removes the masks of dropped parties or the self
// masks of included ones (docs/dropouts.md) expands only its own segment — by starting the CTR
// counter at the range's first block (NIST SP 800-38A §6.5: block i of the stream is E_K(T_0 + i)).

import { ivFor, MaskStream } from '../common/prg.js';
import { addBytesInto, allocRing, type RingBits } from '../common/vector.js';

/** One keystream added (sign 1) or subtracted (sign −1) in the ring. */
export interface MaskTerm {
  readonly seed: Uint8Array;
  readonly sign: 1 | -1;
}

const AES_BLOCK = 16;
/** Keystream bytes produced per cipher call (bounded scratch, as MaskStream). */
const STEP_BYTES = 1 << 20;
const zeros = Buffer.alloc(STEP_BYTES);

/** The initial counter block of `label`'s stream advanced by `blocks` (the low 64 bits are the counter). */
function ivAt(label: string, blocks: number): Buffer {
  const iv = ivFor(label);
  iv.writeBigUInt64BE(BigInt(blocks), 8);
  return iv;
}

/**
 * Σ sign·PRG(seed, label) over ring elements [start, end) of the flat stream, as one ring vector.
 * The result for a range equals the same range of the whole stream (tested against MaskStream).
 */
export function combinedMask(bits: RingBits, terms: readonly MaskTerm[], label: string, start: number, end: number): Uint32Array {
  const bytesPer = bits / 8;
  const from = start * bytesPer;
  const length = (end - start) * bytesPer;
  const out = allocRing(bits, end - start);
  const block = Math.floor(from / AES_BLOCK);
  const skip = from - block * AES_BLOCK;
  const iv = ivAt(label, block);
  const scratch: { buffer?: Uint32Array } = {};
  for (const term of terms) {
    const cipher = MaskStream.rawCipher(term.seed, iv);
    if (skip > 0) cipher.update(zeros.subarray(0, skip));
    for (let at = 0; at < length; at += STEP_BYTES) {
      const n = Math.min(STEP_BYTES, length - at);
      addBytesInto(bits, out.subarray(at / 4, (at + n) / 4), cipher.update(zeros.subarray(0, n)), term.sign, scratch);
    }
  }
  return out;
}
