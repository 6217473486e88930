// Broken copies of the manifests, for showing that each check really fails: in memory (one field of a
// rendered object changed) or on disk (a temporary copy of k8s/ with one text replaced, to go through
// kustomize and the validator like the real thing).
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManifestObject } from './deploy-tools.ts';

export type FieldPath = readonly (string | number)[];

export interface FieldEdit {
  /** The first rendered object of this kind is edited. */
  readonly kind: string;
  readonly path: FieldPath;
  /** The new value from the old one; undefined deletes the field. */
  readonly update: (old: unknown) => unknown;
}

/** A deep copy of `objects` with one field changed; throws when the path does not lead to a field's parent. */
export function withEdit(objects: readonly ManifestObject[], edit: FieldEdit): readonly ManifestObject[] {
  const copy = structuredClone(objects) as Record<string, unknown>[];
  const target = copy.find((object) => object['kind'] === edit.kind);
  if (target === undefined) throw new Error(`no ${edit.kind} to edit`);
  const parentPath = edit.path.slice(0, -1);
  const key = edit.path.at(-1);
  if (key === undefined) throw new Error('an edit needs a field path');
  let parent: unknown = target;
  for (const step of parentPath) {
    parent = isContainer(parent) ? (parent as Record<string | number, unknown>)[step] : undefined;
    if (!isContainer(parent)) throw new Error(`${edit.kind}: ${parentPath.join('.')} does not exist`);
  }
  const fields = parent as Record<string | number, unknown>;
  const value = edit.update(fields[key]);
  if (value === undefined) delete fields[key];
  else fields[key] = value;
  return copy;
}

/**
 * A temporary copy of the k8s/ directory with `from` replaced by `to` in `file` (relative to it); `from`
 * must occur, so the copy cannot silently be the original. Call remove() when done.
 */
export async function editedK8sCopy(k8sDir: string, file: string, from: string, to: string): Promise<{ readonly dir: string; remove(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), 'k8s-copy-'));
  const dir = join(root, 'k8s');
  await cp(k8sDir, dir, { recursive: true });
  const path = join(dir, file);
  const text = await readFile(path, 'utf8');
  if (!text.includes(from)) {
    await rm(root, { recursive: true, force: true });
    throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
  }
  await writeFile(path, text.replace(from, to));
  return { dir, remove: () => rm(root, { recursive: true, force: true }) };
}

function isContainer(value: unknown): boolean {
  return typeof value === 'object' && value !== null;
}
