// `kiln bench boot`: guest boot time (first instruction to main, from the guest's TSC stamps)
// and the whole runner process time, over several runs.
import path from "node:path";
import { resolveApp } from "../config/index.ts";
import { build } from "../build/index.ts";
import { runImage, type RunnerName } from "../run/index.ts";
import { composeCmdline } from "../run/cmdline.ts";
import { KilnError } from "../errors.ts";
import { parseBootLine } from "./boot-line.ts";
import { cpl0BeforeMain, cpl0Paths } from "./cpl0.ts";
import { quantile, summarize, table, type MinMedMax } from "./stats.ts";

export interface BootResult {
  app: string;
  runner: RunnerName;
  accel?: string;
  runs: number;
  guest_boot_us: MinMedMax;
  process_ms: MinMedMax;
  in_process_ms?: { min: number; median: number; p99: number };
  /** CPL-0 instructions executed before main (static path lengths x the guest's counts), median. */
  cpl0_instructions?: number;
  /** CPL-0 entries (shim calls, interrupts) before main, median. */
  cpl0_entries_before_main?: number;
}

export interface BootBenchOptions {
  runs: number;
  /** Also boot the image this many times one after another inside this process (vmm only). */
  inProcess?: number;
  runner: RunnerName | "auto";
  sets?: string[];
  memory?: number;
  log?: (line: string) => void;
}

export async function benchBoot(appDir: string, opts: BootBenchOptions): Promise<BootResult> {
  if (opts.inProcess) {
    const { kvmAvailable } = await import("../vmm/index.ts");
    const avail = kvmAvailable();
    if (!avail.ok) throw new KilnError(`--in-process boots on Kiln's VMM, which needs KVM: ${avail.reason}.`);
  }
  const cfg = await resolveApp(appDir, { sets: opts.sets ?? [] });
  const built = await build(cfg, { log: () => {} });
  const cmdline = composeCmdline(cfg.app.cmdline, ["boot.stats=1"], undefined);
  const guestUs: number[] = [];
  const processMs: number[] = [];
  const paths = await cpl0Paths(built.debugImage);
  const cpl0Insns: number[] = [];
  const cpl0Entries: number[] = [];
  let runner: RunnerName | undefined;
  let accel: string | undefined;
  for (let i = 0; i < opts.runs; i++) {
    const r = await runImage(built.image, {
      memory: opts.memory ?? cfg.app.memory,
      cmdline,
      ...(built.initrd ? { initrd: built.initrd } : {}), // an app with a rootfs boots with it
      runner: opts.runner,
      timeoutMs: 60_000,
      notice: i === 0 ? opts.log : undefined,
    });
    if (r.status !== 0) throw new KilnError(`run ${i + 1}: the guest exited with status ${r.status}:\n${r.output}`);
    const stamp = parseBootLine(r.output);
    if (!stamp) throw new KilnError(`run ${i + 1}: no 'kiln: boot' line in the console output (does the image have the boot library?)`);
    guestUs.push(stamp.guestBootUs);
    processMs.push(r.wallMs);
    if (stamp.cpl0Shims) {
      const c = cpl0BeforeMain(paths, stamp.cpl0Shims, stamp.cpl0Irqs ?? 0);
      cpl0Insns.push(c.instructions);
      cpl0Entries.push(c.entries);
    }
    runner = r.runner;
    accel = r.accel;
    opts.log?.(`run ${i + 1}/${opts.runs}: guest ${stamp.guestBootUs.toFixed(1)} us, process ${r.wallMs.toFixed(1)} ms`);
  }
  const result: BootResult = {
    app: path.basename(path.resolve(appDir)),
    runner: runner ?? "qemu",
    accel,
    runs: opts.runs,
    guest_boot_us: summarize(guestUs, 1),
    process_ms: summarize(processMs, 2),
  };
  if (cpl0Insns.length) {
    result.cpl0_instructions = summarize(cpl0Insns, 0).median;
    result.cpl0_entries_before_main = summarize(cpl0Entries, 0).median;
  }
  if (opts.inProcess) {
    result.in_process_ms = await inProcessBoots(built.image, opts.memory ?? cfg.app.memory, cmdline, opts.inProcess, opts.log, built.initrd);
  }
  return result;
}

/**
 * N boots on Kiln's VMM in this process, one after another, each timed from VM creation to the
 * guest's exit. A loaded worker thread is made ready before each boot (outside the timing), as a
 * server that starts VMs on demand keeps one warm.
 */
async function inProcessBoots(
  image: string,
  memory: number,
  cmdline: string,
  n: number,
  log?: (line: string) => void,
  initrd?: string,
): Promise<{ min: number; median: number; p99: number }> {
  const { Vm } = await import("../vmm/index.ts");
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    await Vm.prewarm(1);
    const t0 = performance.now();
    const vm = await Vm.boot(image, { memory, cmdline, ...(initrd ? { initrd } : {}) });
    const r = await vm.exited;
    samples.push(performance.now() - t0);
    if (r.reason !== "exit" || r.status !== 0) throw new KilnError(`in-process boot ${i + 1}: ${r.detail} (status ${r.status})`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const r3 = (x: number) => Number(x.toFixed(3));
  log?.(`in-process: ${n} boots, median ${r3(quantile(sorted, 0.5))} ms`);
  return { min: r3(sorted[0]!), median: r3(quantile(sorted, 0.5)), p99: r3(quantile(sorted, 0.99)) };
}

export function formatBoot(r: BootResult): string {
  const rows = [
    ["measure", "min", "median", "max"],
    ["guest boot to main (us)", String(r.guest_boot_us.min), String(r.guest_boot_us.median), String(r.guest_boot_us.max)],
    ["whole process (ms)", String(r.process_ms.min), String(r.process_ms.median), String(r.process_ms.max)],
  ];
  if (r.cpl0_instructions !== undefined) {
    rows.push(["CPL-0 instructions before main", "", String(r.cpl0_instructions), ""]);
    rows.push(["CPL-0 entries before main", "", String(r.cpl0_entries_before_main), ""]);
  }
  if (r.in_process_ms) {
    rows.push(["in-process boot (ms; max = p99)", String(r.in_process_ms.min), String(r.in_process_ms.median), String(r.in_process_ms.p99)]);
  }
  const where = r.runner + (r.accel ? ` (${r.accel})` : "");
  return `${r.app} on ${where}, ${r.runs} runs\n\n${table(rows)}`;
}
