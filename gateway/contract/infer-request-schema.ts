// The form of an Open Inference Protocol infer request, as zod schemas. This file is the single source
// for request validation and for the OpenAPI document; the model-specific checks (names, datatypes,
// shapes against the model's metadata) come after it, in models/input-validator.ts.
import { z } from 'zod';
import { DATATYPES } from '../tensors/datatype.ts';

/** Generous bounds that still keep a hostile request from allocating absurd arrays. */
export const MAX_TENSOR_RANK = 32;
export const MAX_TENSORS_PER_REQUEST = 1024;
export const MAX_NAME_LENGTH = 256;
export const MAX_PARAMETERS = 64;

export const tensorName = z.string().min(1).max(MAX_NAME_LENGTH);

export const parameterValue = z.union([z.boolean(), z.number(), z.string().max(4096)]);

export const parametersSchema = z
  .record(z.string().max(MAX_NAME_LENGTH), parameterValue)
  .refine((parameters) => Object.keys(parameters).length <= MAX_PARAMETERS, `at most ${MAX_PARAMETERS} parameters`)
  .meta({ description: 'Free-form parameters; binary_data_size (int64) marks an input sent as binary after the JSON part.' });

export const shapeSchema = z
  .array(z.number().int('dimensions are whole numbers').nonnegative('dimensions are >= 0').max(Number.MAX_SAFE_INTEGER))
  .max(MAX_TENSOR_RANK)
  .meta({ description: 'Row-major shape; the first dimension is the batch when the model batches.' });

export const inferInputSchema = z.object({
  name: tensorName,
  shape: shapeSchema,
  datatype: z.enum(DATATYPES),
  parameters: parametersSchema.optional(),
  data: z
    .unknown()
    .optional()
    .meta({ description: 'Tensor data, flat or nested, row-major: numbers, booleans (BOOL) or strings (BYTES).' }),
});

export const requestedOutputSchema = z.object({
  name: tensorName,
  parameters: parametersSchema.optional(),
});

export const inferRequestSchema = z.object({
  id: z.string().max(MAX_NAME_LENGTH).optional(),
  parameters: parametersSchema.optional(),
  inputs: z.array(inferInputSchema).min(1, 'at least one input is required').max(MAX_TENSORS_PER_REQUEST),
  outputs: z.array(requestedOutputSchema).max(MAX_TENSORS_PER_REQUEST).optional(),
});

export type InferRequestBody = z.output<typeof inferRequestSchema>;
export type InferInputBody = z.output<typeof inferInputSchema>;
export type RequestedOutputBody = z.output<typeof requestedOutputSchema>;
