// `kiln bench syscall`: TSC cycles per getppid() in one run of apps/bench-syscall, through
// - the `syscall` instruction (arch's LSTAR stub: on kvm-pvm the instruction exits to the host
//   hypervisor and back, on TCG it is emulated),
// - a site the build rewrote into a call of the dispatcher (the fast path),
// - musl's getppid() (its own site, rewritten too),
// - a plain function call;
// and the same loops compiled natively on the host: Linux's getppid() through its syscall path.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { buildApp } from "../build/index.ts";
import { KilnError } from "../errors.ts";
import { repoRoot } from "../paths.ts";
import { runImage, type RunnerName } from "../run/index.ts";

const run = promisify(execFile);
export const benchSyscallAppDir = path.join(repoRoot, "apps", "bench-syscall");
/** Unikraft's binary-compatibility figure (the target for the rewritten path). */
export const FAST_TARGET_CYCLES = 84;

export interface GuestSyscallLine {
  lstar: number;
  fast: number;
  musl: number;
  call: number;
  iters: number;
}

export interface SyscallBenchResult {
  guest: GuestSyscallLine;
  host: { syscall: number; call: number };
  runner: RunnerName;
  accel?: string;
  unit: "tsc cycles per call";
  target_fast: number;
}

export function parseGuestLine(out: string): GuestSyscallLine | undefined {
  const m = /^BENCH syscall lstar=(\d+) fast=(\d+) musl=(\d+) call=(\d+) iters=(\d+)\s*$/m.exec(out);
  return m ? { lstar: +m[1]!, fast: +m[2]!, musl: +m[3]!, call: +m[4]!, iters: +m[5]! } : undefined;
}

export function parseHostLine(out: string): { syscall: number; call: number } | undefined {
  const m = /^BENCH host syscall=(\d+) call=(\d+) iters=\d+\s*$/m.exec(out);
  return m ? { syscall: +m[1]!, call: +m[2]! } : undefined;
}

export async function benchSyscall(opts: { iters: number; runner?: RunnerName | "auto"; log?: (s: string) => void }): Promise<SyscallBenchResult> {
  const log = opts.log ?? (() => {});
  log("build apps/bench-syscall");
  const built = await buildApp(benchSyscallAppDir, { sets: [], log: () => {} });
  const r = await runImage(built.image, { memory: 8 << 20, cmdline: `-- ${opts.iters}`, timeoutMs: 300_000, runner: opts.runner, debugImage: built.debugImage, notice: log });
  if (r.status !== 0) throw new KilnError(`bench-syscall exited with status ${r.status}:\n${r.output}`);
  const guest = parseGuestLine(r.output);
  if (!guest) throw new KilnError(`bench-syscall printed no 'BENCH syscall' line:\n${r.output}`);
  log("build and run the same loops natively on the host");
  const tmp = mkdtempSync(path.join(tmpdir(), "kiln-bench-syscall-"));
  try {
    const exe = path.join(tmp, "host-syscall");
    await run("gcc", ["-O2", "-o", exe, path.join(benchSyscallAppDir, "host.c"), path.join(benchSyscallAppDir, "paths.c")]);
    const host = parseHostLine((await run(exe, [String(opts.iters)])).stdout);
    if (!host) throw new KilnError("the host syscall benchmark printed no 'BENCH host' line");
    return { guest, host, runner: r.runner, accel: r.accel, unit: "tsc cycles per call", target_fast: FAST_TARGET_CYCLES };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export function formatSyscallTable(r: SyscallBenchResult): string {
  const rows: [string, string, string][] = [
    ["getppid() through the syscall instruction (LSTAR stub)", String(r.guest.lstar), ""],
    ["getppid() through the rewritten site (fast path)", String(r.guest.fast), `<= ${r.target_fast}`],
    ["musl's getppid() (its site rewritten)", String(r.guest.musl), ""],
    ["plain function call", String(r.guest.call), ""],
    ["host: Linux getppid() (syscall instruction)", String(r.host.syscall), ""],
    ["host: plain function call", String(r.host.call), ""],
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  const head = `${"path".padEnd(w)}  cycles  target`;
  const accel = r.accel ? `, ${r.accel}` : "";
  return [
    `kiln bench syscall (${r.runner}${accel}; TSC cycles per call, best of 7 rounds of ${r.guest.iters})`,
    head,
    ...rows.map(([a, b, c]) => `${a.padEnd(w)}  ${b.padStart(6)}  ${c}`),
    ...(r.accel === "tcg" ? ["(TCG: guest figures are emulator timings)"] : []),
  ].join("\n");
}
