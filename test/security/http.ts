// Moved to the one test harness, test/support/http.ts; this path stays for existing imports.
export * from '../support/http.js';
