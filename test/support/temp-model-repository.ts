// A temporary copy of model_repository/ for the embedded backend (MODEL_REPOSITORY) that a test changes
// while the gateway polls it: versions added (a copy of another version, or one whose model.onnx is
// broken) and removed. Every change is one rename, so a poll never sees half a version: an added version
// is written in a staging directory next to the repository and renamed into place; a removed one is
// renamed out of the repository first and deleted afterwards.
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MODEL_REPOSITORY = fileURLToPath(new URL('../../model_repository', import.meta.url));

/** What a broken version's model.onnx holds: onnxruntime cannot load it. */
export const BROKEN_MODEL_ONNX = 'this is not an ONNX model\n';

export interface TempModelRepository {
  /** Pass as MODEL_REPOSITORY. */
  readonly path: string;
  /** Adds `version` of `model` as a copy of `fromVersion` of the source repository (model_repository/). */
  addVersion(model: string, version: number, fromVersion: number): Promise<void>;
  /** Adds a version directory whose model.onnx is not an ONNX model. */
  addBrokenVersion(model: string, version: number): Promise<void>;
  /** Takes a version directory out of the repository (gone for the next poll at once). */
  removeVersion(model: string, version: number): Promise<void>;
  /** Deletes the whole temporary directory; safe to call twice. */
  remove(): Promise<void>;
}

export async function createTempModelRepository(source: string = MODEL_REPOSITORY): Promise<TempModelRepository> {
  const root = await mkdtemp(join(tmpdir(), 'gateway-repository-'));
  const path = join(root, 'repository');
  const staging = join(root, 'staging');
  await cp(source, path, { recursive: true });
  await mkdir(staging);
  let counter = 0;
  const aside = (model: string, version: number): string => join(staging, `${model}-${version}-${counter++}`);

  const install = async (model: string, version: number, directory: string): Promise<void> => {
    const target = join(path, model, String(version));
    await rm(target, { recursive: true, force: true });
    await rename(directory, target);
  };

  return {
    path,
    async addVersion(model, version, fromVersion) {
      const directory = aside(model, version);
      await cp(join(source, model, String(fromVersion)), directory, { recursive: true });
      await install(model, version, directory);
    },
    async addBrokenVersion(model, version) {
      const directory = aside(model, version);
      await mkdir(directory);
      await writeFile(join(directory, 'model.onnx'), BROKEN_MODEL_ONNX);
      await install(model, version, directory);
    },
    async removeVersion(model, version) {
      const directory = aside(model, version);
      await rename(join(path, model, String(version)), directory);
      await rm(directory, { recursive: true, force: true });
    },
    async remove() {
      await rm(root, { recursive: true, force: true });
    },
  };
}
