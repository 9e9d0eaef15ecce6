// The one table of error kinds lives in shared/error-kinds.ts (browser-safe, imports nothing), beside
// the error classes that take their kinds from it; this path stays for the server's imports.
export * from '../shared/error-kinds.js';
