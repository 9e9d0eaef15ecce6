// Moved to the one test harness, test/support/supertest-client.ts; this path stays for existing imports.
export { TestClient } from '../support/supertest-client.js';
