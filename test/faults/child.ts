// Moved to the one test harness, test/support/process.ts; this path stays for existing imports.
export { spawnParty, type ChildParty } from '../support/process.js';
