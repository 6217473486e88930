// Runs one batch at the backend and hands every member its own rows. The batch's deadline is its
// tightest member's; when that passes, the members that still have time go again without it, so one
// impatient client never costs the others their answer. A batch that Triton rejects as invalid, or that
// the model failed on (one member's data can fail the whole concatenated call), is retried in halves, so
// only the guilty requests fail and no client gets a 502 for another client's data; any other failure is
// every member's. The call is cancelled when every member's client has left.
import type { Backend } from '../backends/backend.ts';
import { GatewayError } from '../errors.ts';
import type { BatchMember } from './batch-member.ts';
import { concatRows, splitRows } from './row-batches.ts';

export async function runBatch(backend: Backend, members: readonly BatchMember[], id: string): Promise<void> {
  const live = members.filter((member) => !member.settled);
  const first = live[0];
  if (first === undefined) return;
  // A lone member's own signal is the call's; a batch's call is cancelled when its last member has left.
  const abandoned = live.length === 1 ? undefined : new AbortController();
  const onClientLeft = (): void => {
    if (live.every((member) => member.context.signal?.aborted === true)) abandoned?.abort();
  };
  if (abandoned !== undefined) for (const member of live) member.context.signal?.addEventListener('abort', onClientLeft, { once: true });
  const tightest = live.reduce((earliest, member) => (member.deadline < earliest.deadline ? member : earliest));
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
  } catch (error) {
    const failure = error instanceof GatewayError ? error : new GatewayError('BACKEND_ERROR', `batch failed: ${String(error)}`, { cause: error });
    if (failure.code === 'DEADLINE_EXCEEDED' && live.length > 1) {
      const now = Date.now();
      // The tightest member's deadline is the one that passed, whatever the clocks say to the millisecond.
      const patient = live.filter((member) => member !== tightest && member.deadline > now);
      for (const member of live) if (!patient.includes(member)) member.reject(failure);
      if (patient.length > 0 && patient.length < live.length) {
        await runBatch(backend, patient, `${id}r`);
        return;
      }
    }
    if ((failure.code === 'BACKEND_REJECTED' || failure.code === 'MODEL_ERROR') && live.length > 1) {
      const half = Math.ceil(live.length / 2);
      await Promise.all([runBatch(backend, live.slice(0, half), `${id}a`), runBatch(backend, live.slice(half), `${id}b`)]);
      return;
    }
    for (const member of live) member.reject(failure);
  } finally {
    if (abandoned !== undefined) for (const member of live) member.context.signal?.removeEventListener('abort', onClientLeft);
  }
}
