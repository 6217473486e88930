// The form of the gateway's answers, for the OpenAPI document and for tests that check responses.
import { z } from 'zod';
import { DATATYPES } from '../tensors/datatype.ts';
import { parametersSchema, shapeSchema, tensorName } from './infer-request-schema.ts';

export const inferOutputSchema = z.object({
  name: tensorName,
  shape: shapeSchema,
  datatype: z.enum(DATATYPES),
  parameters: parametersSchema.optional(),
  data: z.array(z.union([z.number(), z.boolean(), z.string()])).optional(),
});

export const inferResponseSchema = z.object({
  model_name: z.string(),
  model_version: z.string().meta({ description: 'The version that really served the request.' }),
  id: z.string().optional(),
  parameters: parametersSchema.optional(),
  outputs: z.array(inferOutputSchema),
});

export const errorResponseSchema = z.object({
  error: z.string().meta({ description: 'What went wrong, naming the field or input at fault.' }),
  code: z.string().meta({ description: 'Stable error code from the README error table.' }),
});

export const tensorMetadataSchema = z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number().int()) });

export const modelMetadataSchema = z.object({
  name: z.string(),
  versions: z.array(z.string()),
  platform: z.string(),
  inputs: z.array(tensorMetadataSchema),
  outputs: z.array(tensorMetadataSchema),
});

export const serverMetadataSchema = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });

export const readinessSchema = z.object({
  ready: z.boolean(),
  reasons: z.array(z.string()).meta({ description: 'Every check that is failing; empty when ready.' }),
  checks: z.record(z.string(), z.unknown()),
});

export const livenessSchema = z.object({ live: z.literal(true) });

export const modelReadinessSchema = z.object({
  name: z.string(),
  version: z.string().optional().meta({ description: 'Present when the path named a version.' }),
  ready: z.boolean(),
});

export const repositoryIndexRequestSchema = z.object({ ready: z.boolean().optional() });

export const repositoryEntrySchema = z.object({
  name: z.string(),
  version: z.string().optional(),
  state: z.string().optional(),
  reason: z.string().optional(),
});
