// The reference the gateway's answers are compared with: model_repository/reference_infer.py, which runs
// a model.onnx with onnxruntime directly, run by the Triton test venv's python (numpy + onnxruntime).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { provisionTriton, REPO_ROOT } from './provision.ts';

const SCRIPT = join(REPO_ROOT, 'model_repository', 'reference_infer.py');

export interface ReferenceRequest {
  readonly model: string;
  readonly version?: string;
  readonly inputs: Readonly<Record<string, { readonly shape: readonly number[]; readonly data: readonly (number | string)[] }>>;
  readonly outputs?: readonly string[];
}

/** Outputs by name, in the ONNX graph's shapes (digits `label` is [N] there, [N, 1] in Triton). */
export type ReferenceOutputs = Record<string, { shape: number[]; data: (number | string)[] }>;

export async function referenceInfer(request: ReferenceRequest): Promise<ReferenceOutputs> {
  const { python } = await provisionTriton();
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`reference_infer.py exit ${code}: ${out}${err}`))));
    child.stdin.end(JSON.stringify(request));
  });
  return (JSON.parse(stdout) as { outputs: ReferenceOutputs }).outputs;
}
