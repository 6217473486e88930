/**
 * The tagged result used wherever one failure must not throw through other work
 * (batch members, tensor conversion): `{ ok: true, value } | { ok: false, error }`.
 *
 * A leaf module: it imports nothing.
 */

export type Ok<T> = { readonly ok: true; readonly value: T };
export type Err<E> = { readonly ok: false; readonly error: E };
export type Result<T, E> = Ok<T> | Err<E>;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err<E>(error: E): Err<E> {
  return { ok: false, error };
}
