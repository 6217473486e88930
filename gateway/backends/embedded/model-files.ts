// What the model repository holds on disk, read with as few system calls as a poll can afford: model
// directories, their version directories, and a stamp (size, mtime, inode) of each file that matters,
// so a poll notices a change without reading or hashing model files.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export const CONFIG_FILENAME = 'config.pbtxt';

/** Size, mtime and inode of a file; a different stamp means the file changed. */
export type FileStamp = string;

/** The model directories of a repository: every sub-directory, except hidden ones (".git"). */
export async function listModelDirectories(root: string): Promise<string[]> {
  const entries = await readdir(root, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory() || (entry.isSymbolicLink() && (await directoryExists(join(root, entry.name))))) names.push(entry.name);
  }
  return names.sort();
}

/** Triton's rule for a version directory: a decimal number that does not start with "0". */
export function versionOfDirectory(name: string): number | undefined {
  if (!/^[1-9][0-9]*$/.test(name)) return undefined;
  const version = Number(name);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** Numeric version directories of a model; an empty list when the model directory is gone. */
export async function listVersionDirectories(modelDirectory: string): Promise<number[]> {
  const entries = await readdir(modelDirectory, { withFileTypes: true }).catch(ignoreMissing);
  if (entries === undefined) return [];
  const versions: number[] = [];
  for (const entry of entries) {
    const version = versionOfDirectory(entry.name);
    if (version !== undefined && (entry.isDirectory() || entry.isSymbolicLink())) versions.push(version);
  }
  return versions.sort((a, b) => a - b);
}

/** The stamp of a file, or undefined when it does not exist (or is not a regular file). */
export async function stampOf(path: string): Promise<FileStamp | undefined> {
  const info = await stat(path).catch(ignoreMissing);
  if (info === undefined || !info.isFile()) return undefined;
  return `${info.size}:${info.mtimeMs}:${info.ino}`;
}

/**
 * The file ONNX Runtime loads for `<model>/<version>/<filename>`: the file itself, or, when the name is
 * a directory (a model with external data), `<filename>/model.onnx` inside it, as Triton does.
 */
export async function modelFilePath(modelDirectory: string, version: number, filename: string): Promise<string> {
  const path = join(modelDirectory, String(version), filename);
  const info = await stat(path).catch(ignoreMissing);
  return info?.isDirectory() === true ? join(path, 'model.onnx') : path;
}

export async function directoryExists(path: string): Promise<boolean> {
  const info = await stat(path).catch(ignoreMissing);
  return info?.isDirectory() === true;
}

function ignoreMissing(error: unknown): undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
  throw error;
}
