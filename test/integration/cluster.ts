// Moved to the one test harness, test/support/cluster.ts; this path stays for existing imports.
export * from '../support/cluster.js';
