// The tensor codec lives in shared/tensors.ts, shared by the server and the browser-safe client
// (which must not import server code). This path stays for the services that import it from here.
export * from '../../shared/tensors.js';
