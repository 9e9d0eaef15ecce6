// Tessera's TypeScript client: the generated types, the raw openapi-fetch client, and the
// ergonomic wrapper (Api, Representation) that reads like the Federated Secure Computing client.
export {
  Api,
  Representation,
  DEFAULT_TIMEOUT_MS,
  type ApiOptions,
  type RequestOptions,
  type Remote,
  type MemberCall,
  type RepresentationLike,
  type TensorsLike,
  type Schemas,
  type Description,
  type Network,
  type SecureSumInput,
  type SecureSumResult,
  type SecureFedAvgInput,
  type SecureFedAvgResult,
  type SimonMicroprotocols,
  type SimonName,
} from './api.js';
export {
  FederatedAveraging,
  secureFedAvg,
  roundUuid,
  isTfModel,
  tfWeightsToTensorSet,
  setTfWeights,
  type SecureFedAvgRequest,
  type Averaged,
  type FedAvgMicroprotocol,
  type RingBits,
  type FederatedAveragingOptions,
  type RoundReport,
  type FedAvgProgress,
  FEDAVG_STAGES,
  type TfLike,
  type TfModelLike,
  type TfTensorLike,
} from './fedavg/index.js';
export { TesseraApiError, TesseraRequestError, TesseraTimeoutError, type Problem } from './errors.js';
export { TensorSet, type Tensor, type DType } from '../../shared/tensors.js';
export type { paths, components, operations } from './generated/schema.js';
