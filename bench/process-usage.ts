// What a serving process tree costs, read from /proc: CPU ticks (utime + stime of every process in the
// tree, so Triton's Python backend stubs count with Triton) and peak resident memory (VmHWM, reset
// before each measurement by writing 5 to clear_refs, so each cell reports its own peak).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const CLOCK_TICKS_PER_SECOND = 100;
const KIB_PER_MIB = 1024;
/** /proc/<pid>/clear_refs: "5" resets the peak resident set size (VmHWM) to the current one. */
const RESET_PEAK_RSS = '5';

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  readonly ticks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last ") ".
    const fields = text.slice(text.lastIndexOf(') ') + 2).split(' ');
    return { pid, ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined; // the process is gone
  }
}

function allPids(): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
}

/** The process and all its descendants, as they are now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const pid of allPids()) {
    const stat = readStat(pid);
    if (stat === undefined) continue;
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(pid);
    children.set(stat.ppid, siblings);
  }
  const tree: number[] = [];
  const pending = [root];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    tree.push(pid);
    pending.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/** The first process whose command line (NUL-separated arguments) matches. */
export function findProcess(matches: (args: readonly string[]) => boolean): number | undefined {
  for (const pid of allPids()) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (matches(args)) return pid;
    } catch {
      // gone, or not ours to read
    }
  }
  return undefined;
}

export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.ticks ?? 0;
  return ticks / CLOCK_TICKS_PER_SECOND;
}

export function resetPeakRss(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      writeFileSync(`/proc/${pid}/clear_refs`, RESET_PEAK_RSS);
    } catch {
      // gone; its peak no longer counts
    }
  }
}

/** Sum of the peak resident sizes of the processes (each its own peak: an upper bound for the tree's). */
export function peakRssMiB(pids: readonly number[]): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kib += Number(match?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return kib / KIB_PER_MIB;
}
