/** What Linux says about a process (/proc) and about this machine. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Kernel clock ticks per second (utime/stime unit in /proc/<pid>/stat). */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** VmRSS and VmHWM of a process, in bytes (from /proc/<pid>/status). */
export function processMemory(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/** CPU seconds (user + system) a process has used so far; NaN if it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}

/** Measures the CPU share (1.0 = one full core) of several processes over a window. */
export class CpuMeter {
  private readonly start: Map<string, number>;
  private readonly startedAt = performance.now();

  constructor(private readonly pids: Record<string, number>) {
    this.start = new Map(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  }

  /** Cores used per process since construction. */
  read(): Record<string, number> {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const out: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids))
      out[name] = (cpuSeconds(pid) - (this.start.get(name) ?? NaN)) / seconds;
    return out;
  }
}

/** The soft and hard open-file limits of a process (this one by default). */
export function fdLimits(pid: number | 'self' = 'self'): { soft: number; hard: number } {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const num = (v: string | undefined) => (v === undefined || v === 'unlimited' ? Infinity : Number(v));
  return { soft: num(m?.[1]), hard: num(m?.[2]) };
}

function packageVersion(root: string, name: string): string | null {
  const file = path.join(root, 'node_modules', name, 'package.json');
  if (!existsSync(file)) return null;
  return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? null;
}

function gitRevision(root: string): string | null {
  // For a tree without .git (e.g. exported with `git archive`), say what it is.
  if (process.env.BENCH_CODE_REVISION) return process.env.BENCH_CODE_REVISION;
  try {
    const quiet = { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], quiet).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'apps', 'libs'], quiet)
      .toString()
      .trim();
    return dirty ? `${head}+uncommitted changes in apps/ or libs/` : head;
  } catch {
    return null;
  }
}

export interface MachineInfo {
  project: string;
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  os: string;
  node: string;
  v8: string;
  undici: string | null;
  packages: Record<string, string | null>;
  git: string | null;
  ulimitNoFile: { soft: number; hard: number };
}

export function machineInfo(root: string): MachineInfo {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpuModel;
  } catch {
    // not Linux: keep os.cpus()'s answer
  }
  const packages = [
    '@nestjs/core',
    '@nestjs/platform-fastify',
    'fastify',
    'ws',
    'ioredis',
    'pg',
    '@prisma/client',
    '@electric-sql/pglite',
    'typescript',
  ];
  const project = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    name?: string;
    version?: string;
  };
  return {
    project: `${project.name}@${project.version}`,
    cores: os.availableParallelism(),
    cpuModel,
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    undici: process.versions.undici ?? null,
    packages: Object.fromEntries(packages.map((name) => [name, packageVersion(root, name)])),
    git: gitRevision(root),
    ulimitNoFile: fdLimits(),
  };
}

/** Jiffies of the whole machine so far, from /proc/stat. */
function machineJiffies(): { idle: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: cpu[3] + (cpu[4] ?? 0), total: cpu.reduce((a, b) => a + b, 0) };
}

const busyCores = (a: { idle: number; total: number }, b: { idle: number; total: number }) => {
  const total = b.total - a.total;
  return total > 0 ? ((total - (b.idle - a.idle)) / total) * os.availableParallelism() : NaN;
};

/** Busy cores of the whole machine (all processes) over a window. */
export async function machineBusyCores(windowMs: number): Promise<number> {
  const a = machineJiffies();
  await new Promise((r) => setTimeout(r, windowMs));
  return busyCores(a, machineJiffies());
}

/** Pids of the shared services the run uses (Redis, PostgreSQL and its backends), by /proc/<pid>/comm. */
export function servicePids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm === 'redis-server' || comm === 'postgres') pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export interface Load {
  /** Busy cores of the whole machine. */
  machine: number;
  /** This process and its children. */
  ours: number;
  /** Redis and PostgreSQL (used by this run, but maybe by others too). */
  services: number;
  /** Everything else: another workload on the same cores. */
  others: number;
}

/** How busy the machine was during a section, split into this run, the shared services and the rest. */
export class LoadMeter {
  private readonly machine = machineJiffies();
  private readonly self = process.cpuUsage();
  private readonly children = new Map(childPids().map((pid) => [pid, cpuSeconds(pid)]));
  private readonly services = new Map(servicePids().map((pid) => [pid, cpuSeconds(pid)]));
  private readonly started = performance.now();

  read(): Load {
    const seconds = (performance.now() - this.started) / 1000;
    /** CPU seconds since the start of processes now alive (new ones: since they started). */
    const used = (before: Map<number, number>, now: number[]) => {
      let total = 0;
      for (const pid of new Set([...before.keys(), ...now])) {
        const cpu = cpuSeconds(pid);
        if (Number.isFinite(cpu)) total += cpu - (before.get(pid) ?? 0);
      }
      return total / seconds;
    };
    const self = process.cpuUsage(this.self);
    const ours = (self.user + self.system) / 1e6 / seconds + used(this.children, childPids());
    const services = used(this.services, servicePids());
    const machine = busyCores(this.machine, machineJiffies());
    const fixed = (v: number) => Number(Math.max(0, v).toFixed(2));
    return {
      machine: fixed(machine),
      ours: fixed(ours),
      services: fixed(services),
      others: fixed(machine - ours - services),
    };
  }
}

/** Pids of this process's direct children (from /proc/self/task/<tid>/children). */
export function childPids(): number[] {
  const pids = new Set<number>();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const list = readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim();
      for (const pid of list ? list.split(/\s+/) : []) pids.add(Number(pid));
    }
  } catch {
    // not Linux, or the kernel does not expose children: nothing to add
  }
  return [...pids];
}
