// The typed error classes live in shared/errors.ts, where the browser-safe client and the tensor
// codec can import them without importing server code. This path stays for the services and the
// server, which have always imported it from here.
export * from '../shared/errors.js';
