// vitest globalSetup: provisions the real Triton (venv + tritonserver workspace) once, in the main
// process, before any test worker starts, so workers never race to build it. Visible progress on stderr;
// a cached environment costs one file read.
import { provisionTriton } from './provision.ts';

export default async function setup(): Promise<void> {
  if (process.env['TRITON_IMAGE'] !== undefined && process.env['TRITON_IMAGE'] !== '') return; // a container brings its own Triton
  await provisionTriton();
}
