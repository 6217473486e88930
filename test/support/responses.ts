// Reads the gateway's answers in tests through the contract's own zod schemas, so every test that
// looks inside a response also checks that the response has the documented form.
import { errorResponseSchema, inferResponseSchema, readinessSchema } from '../../gateway/contract/infer-response-schema.ts';

export async function inferBodyOf(response: Response) {
  return inferResponseSchema.parse(await response.json());
}

export async function readinessOf(response: Response) {
  return readinessSchema.parse(await response.json());
}

export async function errorOf(response: Response) {
  return errorResponseSchema.parse(await response.json());
}
