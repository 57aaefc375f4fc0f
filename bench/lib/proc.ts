import { readdirSync, readFileSync } from "node:fs";

const HZ = 100; // USER_HZ on Linux

/** The fields of /proc/<pid>/stat after the command name (which may itself hold spaces and parentheses). */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  return (Number(f[11]) + Number(f[12])) / HZ;
}

/** CPU seconds used so far by `pid` and every live descendant (Linux /proc). */
export function treeCpuSeconds(pid: number): number {
  const stats = new Map<number, { ppid: number; seconds: number }>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const f = statFields(entry);
      stats.set(Number(entry), { ppid: Number(f[1]), seconds: (Number(f[11]) + Number(f[12])) / HZ });
    } catch {}
  }
  const children = new Map<number, number[]>();
  for (const [p, s] of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), p]);
  let seconds = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop() as number;
    seconds += stats.get(p)?.seconds ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return seconds;
}
