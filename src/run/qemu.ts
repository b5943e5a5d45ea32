// The QEMU runner: `-M microvm` with no firmware extras, serial on stdio, isa-debug-exit for the
// status. KVM where /dev/kvm opens, TCG elsewhere (slower, same results).
import { spawn, spawnSync, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { openSync, closeSync } from "node:fs";
import { KilnError } from "../errors.ts";
import { ConsoleFilter } from "./console-filter.ts";
import { decodeQemuExit } from "./exit-status.ts";
import type { RunOptions, RunResult } from "./types.ts";
import { quote } from "../quote.ts";
import type { DeviceName } from "../vmm/elf.ts";
import { composeCmdline } from "./cmdline.ts";
import { openGuestNetwork, type GuestNetwork } from "./guest-network.ts";
import { qemuNetArgs, qemuStdio } from "./qemu-net.ts";

export type Accel = "kvm" | "tcg";

/** True when /dev/kvm can be opened for read and write by this process. */
export function kvmUsable(): boolean {
  try {
    closeSync(openSync("/dev/kvm", "r+"));
    return true;
  } catch {
    return false;
  }
}

/** True when the QEMU binary runs (`--version`). */
export function qemuAvailable(): boolean {
  return spawnSync(QEMU_BINARY, ["--version"], { stdio: "ignore" }).status === 0;
}

/** QEMU's -m value for a byte count: whole MiB when exact, else KiB. */
export function qemuMemoryArg(bytes: number): string {
  const mib = 1024 * 1024;
  return bytes % mib === 0 ? `${bytes / mib}M` : `${Math.ceil(bytes / 1024)}K`;
}

export function qemuArgs(image: string, opts: { memory: number; cmdline: string; accel: Accel; initrd?: string; devices?: readonly DeviceName[]; net?: GuestNetwork }): string[] {
  const virtioConsole = opts.devices?.includes("virtio-console") ?? false;
  const net = opts.devices?.includes("virtio-net") ? opts.net : undefined;
  const anyVirtio = virtioConsole || net !== undefined;
  const cmdline = net ? composeCmdline(opts.cmdline, [net.words], undefined) : opts.cmdline;
  const args = [
    // With virtio devices: no ACPI, so that microvm announces them on the command line
    // (virtio_mmio.device=, only done without ACPI), and modern (version 2) transports.
    "-M", `microvm,x-option-roms=off,rtc=off,isa-serial=on,pic=off${anyVirtio ? ",acpi=off" : ""}`,
    "-nodefaults", "-no-user-config", "-nographic",
    ...(anyVirtio ? ["-global", "virtio-mmio.force-legacy=false"] : []),
    // The UART (early output) and the virtconsole share stdio.
    ...(virtioConsole
      ? ["-chardev", "stdio,id=con,mux=on", "-serial", "chardev:con", "-device", "virtio-serial-device", "-device", "virtconsole,chardev=con"]
      : ["-serial", "stdio"]),
    ...(net ? qemuNetArgs(net) : []),
    "-device", "isa-debug-exit,iobase=0x501,iosize=1",
    "-m", qemuMemoryArg(opts.memory),
    "-kernel", image,
  ];
  if (cmdline) args.push("-append", cmdline);
  // QEMU's PVH boot hands it over as module 0 of the start info, at the top of RAM.
  if (opts.initrd) args.push("-initrd", opts.initrd);
  if (opts.accel === "kvm") args.push("-accel", "kvm", "-cpu", "host,-arch-capabilities");
  else args.push("-accel", "tcg", "-cpu", "max");
  return args;
}

export const QEMU_BINARY = process.env.KILN_QEMU ?? "qemu-system-x86_64";

/**
 * The accelerator: the one asked for, else $KILN_QEMU_ACCEL (kvm or tcg: run the same tests under
 * TCG on a machine that has KVM), else KVM where /dev/kvm opens.
 */
export function chooseAccel(asked: Accel | undefined, env: string | undefined = process.env.KILN_QEMU_ACCEL): Accel {
  if (asked) return asked;
  if (env === "kvm" || env === "tcg") return env;
  if (env) throw new KilnError(`KILN_QEMU_ACCEL: unknown accelerator ${quote(env)}. Use kvm or tcg.`);
  return kvmUsable() ? "kvm" : "tcg";
}

export async function runQemu(image: string, opts: RunOptions): Promise<RunResult> {
  const accel = chooseAccel(opts.accel);
  // The network (TAP and port proxy, or user mode) exists for the run and goes with it.
  const nw = await openGuestNetwork(opts.devices?.includes("virtio-net") ?? false, opts.net, "qemu");
  try {
    if (nw) opts.onNetwork?.({ mode: nw.mode, guestIp: nw.guestIp });
    return await runQemuWith(image, opts, accel, nw);
  } finally {
    await nw?.close();
  }
}

async function runQemuWith(image: string, opts: RunOptions, accel: Accel, nw: GuestNetwork | undefined): Promise<RunResult> {
  const args = qemuArgs(image, { memory: opts.memory, cmdline: opts.cmdline, accel, ...(opts.initrd ? { initrd: opts.initrd } : {}), devices: opts.devices, ...(nw ? { net: nw } : {}) });
  const filter = new ConsoleFilter({ verbose: opts.verbose, symbolize: opts.symbolize });
  const started = performance.now();
  const child = spawn(QEMU_BINARY, args, { stdio: qemuStdio(nw, opts.interactive ? "inherit" : "ignore") }) as ChildProcessByStdio<null, Readable, Readable>;
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    const shown = filter.push(chunk);
    if (shown) opts.onOutput?.(shown);
  });
  child.stderr.on("data", (chunk: string) => (stderr += chunk));
  let timedOut = false;
  let stopped = false;
  const onStop = () => {
    stopped = true;
    child.kill("SIGKILL");
  };
  if (opts.stop?.aborted) onStop();
  else opts.stop?.addEventListener("abort", onStop, { once: true });
  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          child.kill("SIGKILL");
        }, opts.timeoutMs)
      : undefined;
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve, reject) => {
      child.on("error", (err: NodeJS.ErrnoException) => {
        if (timer) clearTimeout(timer);
        if (err.code === "ENOENT") {
          reject(new KilnError(`${QEMU_BINARY} not found. Install it: apt-get install qemu-system-x86 (or run 'make deps').`));
        } else reject(err);
      });
      child.on("close", (c, s) => {
        if (timer) clearTimeout(timer);
        opts.stop?.removeEventListener("abort", onStop);
        resolve({ code: c, signal: s });
      });
    },
  );
  const wallMs = performance.now() - started;
  const tail = filter.end();
  if (tail) opts.onOutput?.(tail);
  if (timedOut) {
    throw new KilnError(`the guest did not exit within ${opts.timeoutMs} ms (QEMU ${accel}); killed it.\n${lastLines(filter.raw)}`);
  }
  if (stopped) return { status: 137, output: filter.raw, wallMs, runner: "qemu", accel, stopped: true };
  const outcome = decodeQemuExit(code, signal, filter.raw);
  if (outcome.kind === "qemu-error") {
    const why = signal ? `killed by ${signal}` : `exit code ${code}`;
    throw new KilnError(
      `QEMU stopped without a guest exit status (${why}).` +
        (stderr.trim() ? `\nQEMU said: ${stderr.trim()}` : "") +
        (filter.raw.trim() ? `\nLast console output:\n${lastLines(filter.raw)}` : "\nThe guest printed nothing."),
    );
  }
  return { status: outcome.status, output: filter.raw, wallMs, runner: "qemu", accel };
}

function lastLines(text: string, n = 15): string {
  return text.trimEnd().split("\n").slice(-n).join("\n");
}
