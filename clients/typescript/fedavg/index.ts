// SecureFedAvg from TypeScript: one averaging (average.ts), rounds of it for a training loop
// (rounds.ts, with each round's uuid from round-uuid.ts), TensorFlow.js models (tfjs.ts), and the
// progress both report (progress.ts). None of it imports TensorFlow.js or a Node built-in, so it
// bundles for browsers like the rest of the client.
export { secureFedAvg, type SecureFedAvgRequest, type Averaged, type FedAvgMicroprotocol, type RingBits } from './average.js';
export { FederatedAveraging, type FederatedAveragingOptions, type RoundReport } from './rounds.js';
export { roundUuid } from './round-uuid.js';
export { isTfModel, tfWeightsToTensorSet, setTfWeights, type TfLike, type TfModelLike, type TfTensorLike } from './tfjs.js';
export { FEDAVG_STAGES, type FedAvgProgress } from './progress.js';
