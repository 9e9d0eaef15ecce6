// The JSON bounds live in shared/json.ts, shared by the server and the browser-safe client.
export * from '../../shared/json.js';
