// The machine-readable "ready" line of `tessera serve`: one JSON object on a line of its own on
// stdout, `{"event":"listening","url":"http://127.0.0.1:55501"}`, printed once the server accepts
// connections (after the human "Tessera listening on …" line, which stays for people). Scripts,
// tests, the demo and the benchmarks find the URL with parseReadyLine, the one parser of it, so
// the human wording can change without breaking them.

export const READY_EVENT = 'listening';

export interface ReadyLine {
  readonly event: typeof READY_EVENT;
  /** The client API's URL. */
  readonly url: string;
  /** The node URL peers reach this server by, when it is not `url` (relay://<name> behind a relay). */
  readonly node?: string;
}

/** The line `tessera serve` prints when it is ready (no trailing newline). */
export function formatReadyLine(url: string, node?: string): string {
  return JSON.stringify({ event: READY_EVENT, url, ...(node !== undefined && node !== url ? { node } : {}) } satisfies ReadyLine);
}

/** The first ready line in `output` (whatever else it holds), or undefined. */
export function parseReady(output: string): { url: string; node: string } | undefined {
  for (const line of output.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{')) continue;
    try {
      const value = JSON.parse(text) as Partial<ReadyLine> | null;
      if (value?.event === READY_EVENT && typeof value.url === 'string') {
        return { url: value.url, node: typeof value.node === 'string' ? value.node : value.url };
      }
    } catch {
      // Not JSON (or a line cut short by a chunk boundary): not a ready line yet.
    }
  }
  return undefined;
}

/** The client API URL of the first ready line in `output`, or undefined. */
export function parseReadyLine(output: string): string | undefined {
  return parseReady(output)?.url;
}
