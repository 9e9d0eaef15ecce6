// The tests' one in-memory network: simulation mode's own (services/simulation/network.ts), n
// parties in one process without HTTP, with the session contract's semantics (matching, early
// messages, terms checks, aborts, timeouts). Re-exported here so the harness is one folder.
export { MemoryHub } from '../../services/simulation/network.js';
export { simulatedNodes } from '../../services/simulation/index.js';
