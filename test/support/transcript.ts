// What transcript tests look for in the peer messages a party receives.

/**
 * A byte of a uniform payload is 0x00 or 0xff with probability 1/128, so one 8-byte window holds 4
 * or more such bytes with probability about C(8,4)/128^4 ≈ 2.6e-7; a small number in clear (a
 * count, a weight, a fixed-point value, positive or negative) leaves at least that many in its
 * 64-bit word. Returns such windows' offsets.
 */
export function zeroRuns(payload: Uint8Array): number[] {
  const out: number[] = [];
  for (let at = 0; at + 8 <= payload.length; at += 8) {
    let zeros = 0;
    for (let i = at; i < at + 8; i++) if (payload[i] === 0 || payload[i] === 0xff) zeros += 1;
    if (zeros >= 4) out.push(at);
  }
  return out;
}

/**
 * zeroRuns for checks that look at many words: a uniform payload flags a given word with probability
 * about 2.6e-7, so a test checking tens of thousands of words would fail by chance about once in a
 * few hundred runs. Two flagged words in one payload happen by chance with probability under
 * C(W,2)·(2.6e-7)², while a value in clear flags every word it touches. So a payload of more than one
 * word passes with at most one flagged word; a one-word payload (a weight, a count) must have none.
 */
export function zeroRunsBeyondChance(payload: Uint8Array): number[] {
  const runs = zeroRuns(payload);
  return payload.length > 8 && runs.length <= 1 ? [] : runs;
}

/** Whether `needle`'s bytes occur anywhere in `haystack`. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  // An empty needle is "in" every payload: that would fail a test for nothing.
  return needle.length > 0 && Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength));
}
