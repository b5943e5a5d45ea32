// `kiln bench boot`: guest boot time (first instruction to main, from the guest's TSC stamps)
// and the whole process time of each runner side by side (a real `kiln run` process for the VMM,
// a real QEMU process for QEMU), over several runs; with --in-process, boots inside this process
// on the VMM, warm (a pooled VM shell) and cold (a VM made for each boot).
import { spawn } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../paths.ts";
import { splitCmdline } from "../run/cmdline.ts";
import { resolveApp } from "../config/index.ts";
import { build } from "../build/index.ts";
import { runImage, type RunnerName } from "../run/index.ts";
import { composeCmdline } from "../run/cmdline.ts";
import { KilnError } from "../errors.ts";
import { formatMemory } from "../config/memory.ts";
import { parseBootLine } from "./boot-line.ts";
import { cpl0BeforeMain, cpl0Paths } from "./cpl0.ts";
import { quantile, summarize, table, type MinMedMax } from "./stats.ts";

export interface BootResult {
  app: string;
  runner: RunnerName;
  accel?: string;
  runs: number;
  guest_boot_us: MinMedMax;
  /**
   * Whole process, spawn to exit, measured in turn: `node bin/kiln.js run <image> --runner vmm`
   * (vmm), the same through bin/kiln's client and a warm helper (fast), and the QEMU process (qemu).
   */
  process_ms: Partial<Record<ProcessKind, MinMedMax>>;
  /** In this process on a warm pool shell, boot to exit. */
  in_process_ms?: { min: number; median: number; p99: number };
  /** In this process with a VM made and destroyed for each boot (the vCPU thread reused). */
  in_process_cold_ms?: { min: number; median: number; p99: number };
  /** The least guest memory the image exits 0 in on this runner (bisection up to --memory or the app's). */
  min_memory_bytes?: number;
  /** CPL-0 instructions executed before main (static path lengths x the guest's counts), median. */
  cpl0_instructions?: number;
  /** CPL-0 entries (shim calls, interrupts) before main, median. */
  cpl0_entries_before_main?: number;
}

type ProcessKind = RunnerName | "fast";

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
  const memory = opts.memory ?? cfg.app.memory;
  const guestUs: number[] = [];
  const paths = await cpl0Paths(built.debugImage);
  const cpl0Insns: number[] = [];
  const cpl0Entries: number[] = [];
  const { chooseRunner } = await import("../run/index.ts");
  const runner = await chooseRunner(opts.runner, opts.log);
  const { kvmAvailable } = await import("../vmm/available.ts");
  const { qemuAvailable } = await import("../run/qemu.ts");
  const kvm = kvmAvailable().ok;
  const runners: ProcessKind[] = [...(kvm ? (["vmm", "fast"] as const) : []), ...(qemuAvailable() ? (["qemu"] as const) : [])];
  if (!runners.includes(runner)) runners.push(runner);
  if (kvm) await warmFastPath(built.image, memory, cmdline, opts.log);
  const processMs = new Map<ProcessKind, number[]>(runners.map((r) => [r, []]));
  let accel: string | undefined;
  for (let i = 0; i < opts.runs; i++) {
    // The runners in turn, so a busy moment of the host hits both alike.
    for (const which of runners) {
      const r = which !== "qemu" ? await kilnRunProcess(built.image, memory, cmdline, which === "fast") : await qemuProcess(built.image, memory, cmdline, built.initrd, i === 0 ? opts.log : undefined);
      if (r.status !== 0) throw new KilnError(`run ${i + 1} (${which}): the guest exited with status ${r.status}:\n${r.output}`);
      processMs.get(which)!.push(r.wallMs);
      if (which === "qemu") accel = r.accel;
      if (which !== runner) continue;
      const stamp = parseBootLine(r.output);
      if (!stamp) throw new KilnError(`run ${i + 1}: no 'kiln: boot' line in the console output (does the image have the boot library?)`);
      guestUs.push(stamp.guestBootUs);
      if (stamp.cpl0Shims) {
        const c = cpl0BeforeMain(paths, stamp.cpl0Shims, stamp.cpl0Irqs ?? 0);
        cpl0Insns.push(c.instructions);
        cpl0Entries.push(c.entries);
      }
    }
    opts.log?.(`run ${i + 1}/${opts.runs}: guest ${guestUs.at(-1)!.toFixed(1)} us (${runner}), ${runners.map((w) => `${w} process ${processMs.get(w)!.at(-1)!.toFixed(1)} ms`).join(", ")}`);
  }
  const result: BootResult = {
    app: path.basename(path.resolve(appDir)),
    runner,
    accel: runner === "qemu" ? accel : undefined,
    runs: opts.runs,
    guest_boot_us: summarize(guestUs, 1),
    process_ms: Object.fromEntries([...processMs].map(([k, v]) => [k, summarize(v, 2)])),
  };
  if (cpl0Insns.length) {
    result.cpl0_instructions = summarize(cpl0Insns, 0).median;
    result.cpl0_entries_before_main = summarize(cpl0Entries, 0).median;
  }
  const { minBootMemory } = await import("./min-memory.ts");
  const min = await minBootMemory(built.image, { cmdline, runner, upTo: memory, ...(built.initrd ? { initrd: built.initrd } : {}) });
  if (min !== undefined) result.min_memory_bytes = min;
  if (opts.inProcess) {
    const { Vm } = await import("../vmm/index.ts");
    result.in_process_cold_ms = await inProcessBoots(built.image, memory, cmdline, opts.inProcess, "cold", opts.log, built.initrd);
    // Two shells: one boots while the other is being reset.
    const pool = await Vm.pool({ size: 2, memory });
    try {
      result.in_process_ms = await inProcessBoots(built.image, memory, cmdline, opts.inProcess, "warm", opts.log, built.initrd);
    } finally {
      await pool.close();
    }
  }
  return result;
}

interface ProcessRun {
  status: number;
  output: string;
  wallMs: number;
  accel?: string;
}

/**
 * A real `kiln run <image> --runner vmm` process (with -v, so the boot line is printed), timed
 * from spawn to exit: `node bin/kiln.js`, or with `fast` bin/kiln (the client and the helper).
 */
function kilnRunProcess(image: string, memory: number, cmdline: string, fast = false): Promise<ProcessRun> {
  const { params, args } = splitCmdline(cmdline);
  const argv = ["run", image, "--runner", "vmm", "--memory", String(memory), "-v", "--timeout", "60"];
  for (const p of params.split(/\s+/).filter(Boolean)) argv.push("--param", p);
  argv.push("--", ...args.split(/\s+/).filter(Boolean));
  const [file, all] = fast ? [path.join(repoRoot, "bin", "kiln"), argv] : [process.execPath, [path.join(repoRoot, "bin", "kiln.js"), ...argv]];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(file, all, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (output += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ status: code ?? 255, output, wallMs: performance.now() - t0 }));
  });
}

/**
 * Readies the fast path outside the timing, as a user's first runs do: a plain run builds the
 * client (in the background), a first client run starts the helper, a second makes its pool.
 */
async function warmFastPath(image: string, memory: number, cmdline: string, log?: (line: string) => void): Promise<void> {
  const { existsSync, statSync } = await import("node:fs");
  const client = path.join(repoRoot, ".kiln", "kiln-client");
  const fresh = () => existsSync(client) && statSync(client).mtimeMs > statSync(path.join(repoRoot, "src", "serve", "client.c")).mtimeMs;
  const { socketPath } = await import("../serve/socket-path.ts");
  const sock = socketPath(repoRoot);
  const until = async (ok: () => boolean, what: string) => {
    for (let t = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 50)))
      if (Date.now() - t > 30_000) throw new KilnError(`bench boot: ${what} within 30 s; is gcc installed? (see docs/fast-run.md)`);
  };
  if (!fresh()) await kilnRunProcess(image, memory, cmdline);
  await until(fresh, "the fast client (.kiln/kiln-client) was not built");
  if (!existsSync(sock)) await kilnRunProcess(image, memory, cmdline, true);
  await until(() => existsSync(sock), "the helper (kiln serve) did not start");
  for (let i = 0; i < 2; i++) await kilnRunProcess(image, memory, cmdline, true);
  log?.(`fast path ready: ${client}, helper at ${sock}`);
}

/** A real QEMU process booting the image (the qemu runner's own timing: spawn to exit). */
async function qemuProcess(image: string, memory: number, cmdline: string, initrd: string | undefined, notice?: (line: string) => void): Promise<ProcessRun> {
  // An app with a rootfs boots with it (kiln run finds it beside the image by itself).
  const r = await runImage(image, { memory, cmdline, ...(initrd ? { initrd } : {}), runner: "qemu", timeoutMs: 60_000, notice });
  return { status: r.status, output: r.output, wallMs: r.wallMs, accel: r.accel };
}

/**
 * N boots on Kiln's VMM in this process, one after another, each timed from Vm.boot to the
 * guest's exit. The vCPU thread is loaded beforehand (outside the timing). "warm": a pool is
 * up and each boot takes a shell; "cold": each boot makes its VM, which is destroyed before the
 * exit is reported.
 */
async function inProcessBoots(
  image: string,
  memory: number,
  cmdline: string,
  n: number,
  kind: "warm" | "cold",
  log?: (line: string) => void,
  initrd?: string,
): Promise<{ min: number; median: number; p99: number }> {
  const { Vm } = await import("../vmm/index.ts");
  const samples: number[] = [];
  await Vm.prewarm(1);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const vm = await Vm.boot(image, { memory, cmdline, ...(initrd ? { initrd } : {}) });
    const r = await vm.exited;
    samples.push(performance.now() - t0);
    if (r.reason !== "exit" || r.status !== 0) throw new KilnError(`in-process boot ${i + 1}: ${r.detail} (status ${r.status})`);
    if (vm.warm !== (kind === "warm")) throw new KilnError(`in-process boot ${i + 1}: expected a ${kind} boot, got a ${vm.warm ? "warm" : "cold"} one`);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const r3 = (x: number) => Number(x.toFixed(3));
  log?.(`in-process, ${kind}: ${n} boots, median ${r3(quantile(sorted, 0.5))} ms`);
  return { min: r3(sorted[0]!), median: r3(quantile(sorted, 0.5)), p99: r3(quantile(sorted, 0.99)) };
}

const PROCESS_LABEL: Record<ProcessKind, string> = { vmm: "node bin/kiln.js run (vmm)", fast: "bin/kiln run, helper (vmm)", qemu: "qemu" };

export function formatBoot(r: BootResult): string {
  const rows = [
    ["measure", "min", "median", "max"],
    ["guest boot to main (us)", String(r.guest_boot_us.min), String(r.guest_boot_us.median), String(r.guest_boot_us.max)],
  ];
  for (const [which, m] of Object.entries(r.process_ms))
    rows.push([`whole process, ${PROCESS_LABEL[which as ProcessKind]} (ms)`, String(m.min), String(m.median), String(m.max)]);
  if (r.cpl0_instructions !== undefined) {
    rows.push(["CPL-0 instructions before main", "", String(r.cpl0_instructions), ""]);
    rows.push(["CPL-0 entries before main", "", String(r.cpl0_entries_before_main), ""]);
  }
  if (r.min_memory_bytes !== undefined) rows.push(["least memory it boots in", "", formatMemory(r.min_memory_bytes), ""]);
  if (r.in_process_ms) rows.push(["in-process boot, warm pool (ms; max = p99)", String(r.in_process_ms.min), String(r.in_process_ms.median), String(r.in_process_ms.p99)]);
  if (r.in_process_cold_ms) rows.push(["in-process boot, cold VM (ms; max = p99)", String(r.in_process_cold_ms.min), String(r.in_process_cold_ms.median), String(r.in_process_cold_ms.p99)]);
  const vmm = r.process_ms.vmm?.median;
  const qemu = r.process_ms.qemu?.median;
  const ratios: string[] = [];
  const fast = r.process_ms.fast?.median;
  if (vmm && qemu) ratios.push(`kiln run (vmm) whole process: ${(qemu / vmm).toFixed(2)}x faster than qemu`);
  if (fast && qemu) ratios.push(`kiln run via the helper (bin/kiln) whole process: ${(qemu / fast).toFixed(2)}x faster than qemu`);
  if (r.in_process_ms && qemu) ratios.push(`in-process warm: ${(qemu / r.in_process_ms.median).toFixed(1)}x faster than the qemu process`);
  const where = r.runner + (r.accel ? ` (${r.accel})` : "");
  return `${r.app} on ${where}, ${r.runs} runs\n\n${table(rows)}${ratios.length ? `\n\n${ratios.join("\n")}` : ""}`;
}
