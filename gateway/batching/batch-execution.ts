// Runs one batch at the backend and hands every member its own rows. The batch's deadline is its
// tightest member's; when that passes, the members that still have time go again without it, so one
// impatient client never costs the others their answer. A batch that the backend rejects as invalid or
// too large for its output cap (checks made before running, on the batch's combined rows) is retried in
// halves, so only the guilty requests fail. A batch the model failed on (one member's data can fail the
// whole concatenated call) is retried in halves too, but this re-sends requests to the model: when both
// halves fail as well (a broken model, or guilty members on both sides) each member goes alone, so a
// model that fails everything costs n+3 calls for a batch of n and each request is sent at most 3 times,
// not 2n-1 calls and log2(n)+1 sends. Any other failure is every member's. The call is cancelled when
// every member's client has left.
import type { Backend } from '../backends/backend.ts';
import { GatewayError } from '../errors.ts';
import type { BatchMember } from './batch-member.ts';
import { concatRows, splitRows } from './row-batches.ts';

/** Failures judged before the model runs (no side effects): halving until the guilty member is alone is cheap. */
const SPLIT_FREELY = new Set(['BACKEND_REJECTED', 'TOO_LARGE_TENSOR']);

export async function runBatch(backend: Backend, members: readonly BatchMember[], id: string): Promise<void> {
  const live = members.filter((member) => !member.settled);
  const failure = await callOnce(backend, live, id);
  if (failure !== undefined) await afterFailure(backend, live, failure, id);
}

/** One call for `live`: resolves every member on success; returns the failure without settling anyone. */
async function callOnce(backend: Backend, live: readonly BatchMember[], id: string): Promise<GatewayError | undefined> {
  const first = live[0];
  if (first === undefined) return undefined;
  // A lone member's own signal is the call's; a batch's call is cancelled when its last member has left.
  const abandoned = live.length === 1 ? undefined : new AbortController();
  const onClientLeft = (): void => {
    if (live.every((member) => member.context.signal?.aborted === true)) abandoned?.abort();
  };
  if (abandoned !== undefined) for (const member of live) member.context.signal?.addEventListener('abort', onClientLeft, { once: true });
  const tightest = tightestOf(live);
  try {
    const result = await backend.infer(
      {
        model: first.request.model,
        version: first.request.version,
        id,
        inputs: live.length === 1 ? first.request.inputs : concatRows(live.map((member) => member.request.inputs)),
        outputs: first.request.outputs,
      },
      { deadline: tightest.deadline, signal: abandoned?.signal ?? first.context.signal, clientDeadline: tightest.context.clientDeadline === true },
    );
    const shares = splitRows(result.outputs, live.map((member) => member.rows));
    live.forEach((member, index) => member.resolve({ model: result.model, version: result.version, outputs: shares[index] ?? [] }));
    return undefined;
  } catch (error) {
    return error instanceof GatewayError ? error : new GatewayError('BACKEND_ERROR', `batch failed: ${String(error)}`, { cause: error });
  } finally {
    if (abandoned !== undefined) for (const member of live) member.context.signal?.removeEventListener('abort', onClientLeft);
  }
}

function tightestOf(live: readonly BatchMember[]): BatchMember {
  return live.reduce((earliest, member) => (member.deadline < earliest.deadline ? member : earliest));
}

async function afterFailure(backend: Backend, live: readonly BatchMember[], failure: GatewayError, id: string): Promise<void> {
  if (failure.code === 'DEADLINE_EXCEEDED' && live.length > 1) {
    const now = Date.now();
    const tightest = tightestOf(live);
    // The tightest member's deadline is the one that passed, whatever the clocks say to the millisecond.
    const patient = live.filter((member) => member !== tightest && member.deadline > now);
    for (const member of live) if (!patient.includes(member)) member.reject(failure);
    if (patient.length > 0 && patient.length < live.length) {
      await runBatch(backend, patient, `${id}r`);
      return;
    }
  }
  if (SPLIT_FREELY.has(failure.code) && live.length > 1) {
    const half = Math.ceil(live.length / 2);
    await Promise.all([runBatch(backend, live.slice(0, half), `${id}a`), runBatch(backend, live.slice(half), `${id}b`)]);
    return;
  }
  if (failure.code === 'MODEL_ERROR' && live.length > 1) {
    await halveModelError(backend, live, id);
    return;
  }
  for (const member of live) member.reject(failure);
}

/**
 * Each half once; a failed half goes on halving while the other half succeeded (the guilty side). When
 * both fail, every member of both goes alone: only its own data can fail it, and no request of a model
 * that fails everything is sent more than 3 times.
 */
async function halveModelError(backend: Backend, live: readonly BatchMember[], id: string): Promise<void> {
  const split = Math.ceil(live.length / 2);
  const halves = [live.slice(0, split), live.slice(split)].map((members) => members.filter((member) => !member.settled));
  const ids = [`${id}a`, `${id}b`];
  const failures = await Promise.all(halves.map((members, index) => callOnce(backend, members, ids[index] ?? id)));
  const bothFailed = failures.every((failure, index) => failure?.code === 'MODEL_ERROR' || halves[index]?.length === 0);
  await Promise.all(
    halves.map(async (members, index) => {
      const failure = failures[index];
      const half = ids[index] ?? id;
      if (failure === undefined) return;
      // A half of one was that member alone: its failure is its own, and it is not sent a third time.
      if (bothFailed && members.length === 1) members[0]?.reject(failure);
      else if (bothFailed) await Promise.all(members.map((member, at) => runBatch(backend, [member], `${half}${at}`)));
      else await afterFailure(backend, members, failure, half);
    }),
  );
}
