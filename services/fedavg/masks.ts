// Which mask terms a SecureFedAvg party applies, expanded by one function (services/fedavg/
// protocol.ts decides the terms; this file only turns a list of {seed, sign} into one mask).
//
// Every term is the AES-256-CTR keystream of its seed under one label (services/common/prg.ts),
// read as a ring vector over the FLAT model: element e of the model is masked by the keystream
// bytes at offset e·k/8. So any range [start, end) can be expanded on its own — setup expands
// chunk by chunk, and a segment holder that removes the masks of dropped parties or the self
// masks of included ones (docs/dropouts.md) expands only its own segment — by starting the CTR
// counter at the range's first block (NIST SP 800-38A §6.5: block i of the stream is E_K(T_0 + i)).

import { expandMaskInto, type MaskTerm } from '../common/mask.js';
import { allocRing, type RingBits } from '../common/vector.js';

export type { MaskTerm };

/**
 * Σ sign·PRG(seed, label) over ring elements [start, end) of the flat stream, as one ring vector,
 * by the one mask kernel (services/common/mask.ts). The result for a range equals the same range
 * of the whole stream (tested against MaskStream).
 */
export function combinedMask(bits: RingBits, terms: readonly MaskTerm[], label: string, start: number, end: number): Uint32Array {
  const out = allocRing(bits, end - start);
  expandMaskInto(bits, terms, label, out, start);
  return out;
}
