// libsodium (the npm package libsodium-wrappers-sumo: libsodium compiled to WebAssembly), loaded
// on first use, so that a server that never runs the microprotocols needing it does not hold its
// WebAssembly memory (about 6 MiB). Used for ristretto255: the vertical table's ElGamal
// (services/simon/sets/elgamal.ts) and the hash onto the group of the set protocols
// (services/simon/sets/group.ts).

export type Sodium = typeof import('libsodium-wrappers-sumo').default;

let loading: Promise<Sodium> | undefined;

/** The library, ready; every call after the first gets the same promise. */
export function loadSodium(): Promise<Sodium> {
  loading ??= import('libsodium-wrappers-sumo').then(async ({ default: sodium }) => {
    await sodium.ready;
    return sodium;
  });
  return loading;
}
