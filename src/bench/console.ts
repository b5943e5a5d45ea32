// `kiln bench console`: what console output costs the guest, through virtio-console and through
// the 16550, on the same image (apps/virtio-console, booted with and without the device). The
// guest times N lines of B bytes with the TSC and prints
//   console-bench: backend=<virtio|serial> lines=N bytes=B cycles=C tsc_khz=K
// plus its driver counters (chains, notifications). Medians over the runs.
import path from "node:path";
import { buildApp } from "../build/index.ts";
import { KilnError } from "../errors.ts";
import { repoRoot } from "../paths.ts";
import { runImage, type RunnerName } from "../run/index.ts";
import { summarize, table, type MinMedMax } from "./stats.ts";

export const CONSOLE_BACKENDS = ["virtio", "serial"] as const;
export type ConsoleBackend = (typeof CONSOLE_BACKENDS)[number];

export interface ConsoleLine {
  backend: ConsoleBackend;
  lines: number;
  bytes: number;
  cycles: number;
  tscKhz: number;
}

export interface ConsoleBackendResult {
  /** Guest time per line and per byte (microseconds, nanoseconds): medians over the runs. */
  us_per_line: number;
  ns_per_byte: number;
  spread_us_per_line: MinMedMax;
  /** virtio only: driver counters of the last run (chains given to the device, notifications). */
  chains?: number;
  notifies?: number;
}

export interface ConsoleBenchResult {
  lines: number;
  line_bytes: number;
  runs: number;
  runner: RunnerName;
  accel?: string;
  virtio: ConsoleBackendResult;
  serial: ConsoleBackendResult;
  /** serial us_per_line / virtio us_per_line. */
  speedup: number;
}

export interface ConsoleBenchOptions {
  runs: number;
  lines: number;
  lineBytes: number;
  runner?: RunnerName | "auto";
  log?: (s: string) => void;
}

export const consoleAppDir = path.join(repoRoot, "apps", "virtio-console");

export function parseConsoleLine(output: string): ConsoleLine | undefined {
  const m = /^console-bench: backend=(virtio|serial) lines=(\d+) bytes=(\d+) cycles=(\d+) tsc_khz=(\d+)$/m.exec(output);
  if (!m) return undefined;
  return { backend: m[1] as ConsoleBackend, lines: Number(m[2]), bytes: Number(m[3]), cycles: Number(m[4]), tscKhz: Number(m[5]) };
}

export async function benchConsole(opts: ConsoleBenchOptions): Promise<ConsoleBenchResult> {
  const log = opts.log ?? (() => {});
  if (opts.lineBytes > 4000) throw new KilnError(`--bytes: ${opts.lineBytes} is more than the 4000 bytes a line may have here.`);
  log("build apps/virtio-console");
  const built = await buildApp(consoleAppDir, { sets: [], log: () => {} });
  let runner: RunnerName = "qemu";
  let accel: string | undefined;
  const perLine: Record<ConsoleBackend, number[]> = { virtio: [], serial: [] };
  const counters: { chains?: number; notifies?: number } = {};
  for (let i = 0; i < opts.runs; i++) {
    for (const backend of CONSOLE_BACKENDS) {
      const r = await runImage(built.image, {
        memory: 2 << 20,
        cmdline: `-- lines ${opts.lines} ${opts.lineBytes}`,
        timeoutMs: 300_000,
        runner: opts.runner,
        devices: backend === "virtio" ? ["virtio-console"] : [],
        // The steady state: on the VMM, every notification through KVM_IOEVENTFD from the first.
        devicesFirst: true,
        notice: i === 0 && backend === "virtio" ? log : undefined,
      });
      if (r.status !== 0) throw new KilnError(`console bench (${backend}) exited with status ${r.status}:\n${r.output.slice(-2000)}`);
      const line = parseConsoleLine(r.output);
      if (!line) throw new KilnError(`console bench (${backend}): no 'console-bench:' line in the output:\n${r.output.slice(-2000)}`);
      if (line.backend !== backend)
        throw new KilnError(`console bench: asked for ${backend} but the guest used ${line.backend} (is the device missing, or failed?)`);
      const us = line.cycles / line.tscKhz / line.lines * 1000;
      perLine[backend].push(us);
      if (backend === "virtio") {
        const c = /virtio-console: active=1 writes=\d+ bytes=\d+ chains=(\d+) notifies=(\d+)/.exec(r.output);
        if (c) {
          counters.chains = Number(c[1]);
          counters.notifies = Number(c[2]);
        }
      }
      runner = r.runner;
      accel = r.accel;
      log(`run ${i + 1}/${opts.runs} ${backend}: ${us.toFixed(2)} us a line`);
    }
  }
  const result = (b: ConsoleBackend): ConsoleBackendResult => {
    const s = summarize(perLine[b], 3);
    return {
      us_per_line: s.median,
      ns_per_byte: Number(((s.median * 1000) / opts.lineBytes).toFixed(1)),
      spread_us_per_line: s,
      ...(b === "virtio" ? counters : {}),
    };
  };
  const virtio = result("virtio");
  const serial = result("serial");
  return {
    lines: opts.lines,
    line_bytes: opts.lineBytes,
    runs: opts.runs,
    runner,
    ...(accel ? { accel } : {}),
    virtio,
    serial,
    speedup: Number((serial.us_per_line / virtio.us_per_line).toFixed(2)),
  };
}

export function formatConsoleTable(r: ConsoleBenchResult): string {
  const rows = [["backend", "us/line (median)", "min", "max", "ns/byte", "chains", "notifies"]];
  for (const b of CONSOLE_BACKENDS) {
    const x = r[b];
    rows.push([b === "virtio" ? "virtio-console" : "16550", String(x.us_per_line), String(x.spread_us_per_line.min), String(x.spread_us_per_line.max), String(x.ns_per_byte), String(x.chains ?? "-"), String(x.notifies ?? "-")]);
  }
  const where = r.runner + (r.accel ? ` (${r.accel})` : "");
  const note = r.accel === "tcg" ? "\n\nUnder TCG the guest is emulated: these are emulator costs, not KVM's." : "";
  return `console output on ${where}: ${r.lines} lines of ${r.line_bytes} bytes, ${r.runs} run${r.runs === 1 ? "" : "s"} (guest TSC time)\n\n${table(rows)}\n\nvirtio-console is ${r.speedup}x the 16550's speed${note}`;
}
