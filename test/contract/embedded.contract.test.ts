// The contract suite against the embedded backend: the gateway in-process with no TRITON_GRPC_URL,
// serving a temporary copy of model_repository/ (made for this file) that it polls every 100 ms.
import { useEmbeddedContractBackend } from './contract-backend.ts';
import { contractSuite } from './contract-suite.ts';

contractSuite(useEmbeddedContractBackend());
