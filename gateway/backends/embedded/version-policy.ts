// Which of the version directories on disk a model's version policy asks to load, as Triton decides it:
// latest(n) = the n highest-numbered directories (whether or not they will load), all = every one,
// specific = the listed ones that exist.
import type { VersionPolicy } from './model-config.ts';

/** The versions to load, highest first. */
export function selectVersions(policy: VersionPolicy, onDisk: Iterable<number>): number[] {
  const available = [...new Set(onDisk)].sort((a, b) => b - a);
  switch (policy.kind) {
    case 'latest':
      return available.slice(0, policy.count);
    case 'all':
      return available;
    case 'specific': {
      const wanted = new Set(policy.versions);
      return available.filter((version) => wanted.has(version));
    }
    default:
      return unreachable(policy);
  }
}

/** Triton's rule for a version directory: a decimal number that does not start with "0". */
export function versionOfDirectory(name: string): number | undefined {
  if (!/^[1-9][0-9]*$/.test(name)) return undefined;
  const version = Number(name);
  return Number.isSafeInteger(version) ? version : undefined;
}

function unreachable(policy: never): never {
  throw new Error(`unhandled version policy ${JSON.stringify(policy)}`);
}
