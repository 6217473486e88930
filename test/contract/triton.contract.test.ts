// The contract suite against the real Triton of the test suite (python-backend twins of
// model_repository/, poll mode, --repository-poll-secs=1), the gateway in-process pointed at it.
import { useTritonContractBackend } from './contract-backend.ts';
import { contractSuite } from './contract-suite.ts';

contractSuite(useTritonContractBackend());
