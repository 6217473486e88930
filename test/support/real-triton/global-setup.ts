// vitest globalSetup: provisions the real Triton (venv + tritonserver workspace) once, in the main
// process, before any test worker starts, so workers never race to build it. Visible progress on stderr;
// a cached environment costs one file read. Also with TRITON_TEST_IMAGE (a container brings its own Triton):
// the venv computes the reference outputs and holds Triton's Python client.
import { provisionTriton } from './provision.ts';

export default async function setup(): Promise<void> {
  await provisionTriton();
}
