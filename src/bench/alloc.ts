// `kiln bench alloc`: allocator throughput inside the guest for region, buddy and TLSF on the
// bench-alloc workloads, the same workloads on the host over glibc malloc (the reference line)
// and over the allocator cores compiled natively (a like-for-like CPU comparison where the
// guest runs under an emulator), the guest boot time with each allocator, and the cost of
// creating each allocator.
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildApp } from "../build/index.ts";
import { KilnError } from "../errors.ts";
import { defaultBuildRoot, kernelRoot, repoRoot } from "../paths.ts";
import { runImage, type RunnerName } from "../run/index.ts";
import { parseBootLine } from "./boot-line.ts";
import { quantile, table } from "./stats.ts";

const run = promisify(execFile);

export const ALLOCATORS = ["region", "buddy", "tlsf"] as const;
export type AllocatorName = (typeof ALLOCATORS)[number];
export const WORKLOADS = ["small", "mixed", "pages"] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** Ops per second of one workload: per guest allocator, and host glibc malloc. */
export type WorkloadRates = Record<AllocatorName | "glibc", number>;

export interface AllocBenchResult {
  /** Guest throughput (median over runs) and host glibc, in allocator calls per second. */
  workloads: Record<WorkloadName, WorkloadRates>;
  /** Guest boot time to main (median, microseconds) with each allocator as the default. */
  boot_us: Record<AllocatorName, number>;
  /** The allocator cores and glibc all natively on the host: the fair CPU comparison. */
  host: Record<WorkloadName, WorkloadRates>;
  /** Guest: nanoseconds to create an allocator over 1 MiB (median over runs). */
  init_ns: Record<AllocatorName, number>;
  runs: number;
  boot_runs: number;
  runner: RunnerName;
  accel?: string;
  /** Guest memory for the throughput runs and for the boot runs, bytes. */
  memory: { throughput: number; boot: number };
}

export interface BenchLine {
  workload: string;
  ops: number;
  cycles: number;
  ns: number;
}

/** Parses `BENCH alloc workload=<name> ops=<n> cycles=<n> ns=<n>` lines. */
export function parseBenchLines(output: string): BenchLine[] {
  const out: BenchLine[] = [];
  for (const m of output.matchAll(/^BENCH alloc workload=(\S+) ops=(\d+) cycles=(\d+) ns=(\d+)\s*$/gm)) {
    out.push({ workload: m[1]!, ops: Number(m[2]), cycles: Number(m[3]), ns: Number(m[4]) });
  }
  return out;
}

/** Calls per second of one line (0 when no time was measured). */
export function opsPerSec(l: BenchLine): number {
  return l.ns > 0 ? (l.ops * 1e9) / l.ns : 0;
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);

const appSources = ["main.c", "workload.c"].map((f) => path.join(repoRoot, "apps/bench-alloc", f));

/** A kiln.yaml for bench-alloc with one allocator, in its own directory. */
function writeVariant(dir: string, alloc: AllocatorName, memory: number): string {
  const appDir = path.join(dir, alloc);
  mkdirSync(appDir, { recursive: true });
  writeFileSync(
    path.join(appDir, "kiln.yaml"),
    [
      `name: bench-alloc-${alloc}`,
      `memory: ${memory}`,
      `sources: [${appSources.map((s) => JSON.stringify(s)).join(", ")}]`,
      "libraries:",
      "  nolibc: {}",
      "  print: {}",
      "  time: {}",
      `  alloc-${alloc}: {}`,
      "",
    ].join("\n"),
  );
  return appDir;
}

/** Compiles the host reference (glibc and the allocator cores natively) into dir. */
async function buildHost(dir: string): Promise<string> {
  const exe = path.join(dir, "host-bench");
  const libs = ["alloc", "alloc-region", "alloc-buddy", "alloc-tlsf"];
  const args = [
    "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror",
    ...libs.map((l) => `-I${path.join(kernelRoot, "lib", l, "include")}`),
    path.join(repoRoot, "apps/bench-alloc/host_main.c"),
    path.join(repoRoot, "apps/bench-alloc/workload.c"),
    ...["alloc-region/region.c", "alloc-buddy/buddy.c", "alloc-tlsf/tlsf.c"].map((f) => path.join(kernelRoot, "lib", f)),
    "-o", exe,
  ];
  try {
    await run("gcc", args);
  } catch (e) {
    const err = e as { stderr?: string };
    throw new KilnError(`compiling the host allocator benchmark failed:\n${err.stderr ?? String(e)}`);
  }
  return exe;
}

export interface AllocBenchOptions {
  runs: number;
  log?: (s: string) => void;
  /** Guest memory for the throughput runs (default 128 MiB: region never reuses memory). */
  memory?: number;
  /** Guest memory for the boot-time runs (default 32 MiB). */
  bootMemory?: number;
  /** Boots per allocator for the boot time (default 3 x runs: boot times are noisier). */
  bootRuns?: number;
  runner?: RunnerName | "auto";
}

export async function benchAlloc(opts: AllocBenchOptions): Promise<AllocBenchResult> {
  const runs = Math.max(1, Math.floor(opts.runs));
  const log = opts.log ?? (() => {});
  const memory = opts.memory ?? 128 << 20;
  const bootMemory = opts.bootMemory ?? 32 << 20;
  const bootRuns = Math.max(1, Math.floor(opts.bootRuns ?? 3 * runs));
  const tmp = mkdtempSync(path.join(tmpdir(), "kiln-bench-alloc-"));
  try {
    const workloads = {} as Record<WorkloadName, WorkloadRates>;
    const host = {} as Record<WorkloadName, WorkloadRates>;
    for (const w of WORKLOADS) {
      workloads[w] = { region: 0, buddy: 0, tlsf: 0, glibc: 0 };
      host[w] = { region: 0, buddy: 0, tlsf: 0, glibc: 0 };
    }
    const boot_us = {} as Record<AllocatorName, number>;
    const init_ns = {} as Record<AllocatorName, number>;
    let runner: RunnerName = "qemu";
    let accel: string | undefined;

    const images = {} as Record<AllocatorName, { image: string; debugImage: string }>;
    for (const alloc of ALLOCATORS) {
      log(`build bench-alloc with alloc-${alloc}`);
      const built = await buildApp(writeVariant(tmp, alloc, memory), { outDir: path.join(defaultBuildRoot(), `bench-alloc-${alloc}`), log: () => {} });
      images[alloc] = { image: built.image, debugImage: built.debugImage };
    }
    const rates = {} as Record<AllocatorName, Record<WorkloadName, number[]>>;
    const inits = {} as Record<AllocatorName, number[]>;
    const boots = {} as Record<AllocatorName, number[]>;
    for (const alloc of ALLOCATORS) {
      rates[alloc] = { small: [], mixed: [], pages: [] };
      inits[alloc] = [];
      boots[alloc] = [];
    }
    // Interleaved (run i of every allocator, then run i+1): a machine whose load changes over
    // the measurement then skews all allocators alike instead of whichever ran last.
    for (let i = 0; i < runs; i++) {
      for (const alloc of ALLOCATORS) {
        const { image, debugImage } = images[alloc];
        const r = await runImage(image, { memory, cmdline: `-- ${WORKLOADS.join(" ")} init`, timeoutMs: 120_000, runner: opts.runner, debugImage });
        if (r.status !== 0) throw new KilnError(`bench-alloc (alloc-${alloc}) exited with status ${r.status}:\n${r.output}`);
        runner = r.runner;
        accel = r.accel;
        const lines = parseBenchLines(r.output);
        for (const w of WORKLOADS) {
          const l = lines.find((x) => x.workload === w);
          if (!l) throw new KilnError(`bench-alloc (alloc-${alloc}): no BENCH line for workload ${w}:\n${r.output}`);
          rates[alloc][w].push(opsPerSec(l));
        }
        const init = lines.find((x) => x.workload === "init");
        if (init) inits[alloc].push(init.ns / init.ops);
        log(`alloc-${alloc} run ${i + 1}/${runs}: ${WORKLOADS.map((w) => `${w} ${Math.round(rates[alloc][w].at(-1)!)} ops/s`).join(", ")}`);
      }
    }
    for (let i = 0; i < bootRuns; i++) {
      for (const alloc of ALLOCATORS) {
        const b = await runImage(images[alloc].image, { memory: bootMemory, cmdline: "boot.stats=1 -- none", timeoutMs: 60_000, runner: opts.runner });
        const stamp = parseBootLine(b.output);
        if (b.status !== 0 || !stamp) throw new KilnError(`bench-alloc (alloc-${alloc}) boot run: status ${b.status}, no 'kiln: boot' line:\n${b.output}`);
        boots[alloc].push(stamp.guestBootUs);
      }
      log(`boot ${i + 1}/${bootRuns}: ${ALLOCATORS.map((a) => `${a} ${boots[a].at(-1)!.toFixed(1)} us`).join(", ")}`);
    }
    for (const alloc of ALLOCATORS) {
      for (const w of WORKLOADS) workloads[w][alloc] = Math.round(median(rates[alloc][w]));
      boot_us[alloc] = Number(median(boots[alloc]).toFixed(1));
      init_ns[alloc] = Number(median(inits[alloc]).toFixed(1));
    }

    log("build and run the host reference (glibc malloc, and the cores natively)");
    const exe = await buildHost(tmp);
    const reps = Math.max(5, runs);
    for (const kind of ["glibc", ...ALLOCATORS] as const) {
      const { stdout } = await run(exe, [kind, String(reps), ...WORKLOADS]);
      const lines = parseBenchLines(stdout);
      for (const w of WORKLOADS) {
        const l = lines.find((x) => x.workload === w);
        if (!l) throw new KilnError(`host benchmark (${kind}): no line for workload ${w}:\n${stdout}`);
        host[w][kind] = Math.round(opsPerSec(l));
        if (kind === "glibc") workloads[w].glibc = host[w].glibc;
      }
    }
    return { workloads, boot_us, host, init_ns, runs, boot_runs: bootRuns, runner, accel, memory: { throughput: memory, boot: bootMemory } };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const fmtRate = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n));

export function formatAllocTable(r: AllocBenchResult): string {
  const where = r.runner + (r.accel ? ` (${r.accel})` : "");
  const head = ["workload (calls/s)", ...ALLOCATORS, "glibc", "tlsf/glibc"];
  const guest = [head];
  const hostRows = [head];
  for (const w of WORKLOADS) {
    const g = r.workloads[w];
    guest.push([w, ...ALLOCATORS.map((a) => fmtRate(g[a])), fmtRate(g.glibc), (g.tlsf / g.glibc).toFixed(2)]);
    const h = r.host[w];
    hostRows.push([w, ...ALLOCATORS.map((a) => fmtRate(h[a])), fmtRate(h.glibc), (h.tlsf / h.glibc).toFixed(2)]);
  }
  const boot = [
    ["allocator", "boot to main (us)", "vs region", "create over 1 MiB (ns)"],
    ...ALLOCATORS.map((a) => [a, String(r.boot_us[a]), (r.boot_us[a] / r.boot_us.region).toFixed(2), String(r.init_ns[a])]),
  ];
  const mib = (n: number) => `${Math.round(n / (1 << 20))} MiB`;
  return [
    `allocators in the guest on ${where}, ${r.runs} run(s), ${mib(r.memory.throughput)}; glibc natively on the host`,
    "",
    table(guest),
    "",
    "all natively on the host (the allocator cores compiled for the host; best of several)",
    "",
    table(hostRows),
    "",
    `guest boot with each allocator (${mib(r.memory.boot)}, median of ${r.boot_runs})`,
    "",
    table(boot),
    ...(r.accel === "tcg" ? ["", "note: under TCG the guest numbers are emulated: compare ratios, not absolutes"] : []),
  ].join("\n");
}
