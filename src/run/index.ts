// Boots an image on a runner and returns the guest's exit status and console output.
import { existsSync, readFileSync, statSync } from "node:fs";
import { KilnError } from "../errors.ts";
import { elfSymbolizer } from "./symbolize.ts";
import { runQemu } from "./qemu.ts";
import type { RunOptions, RunResult, RunnerName } from "./types.ts";
import { quote } from "../quote.ts";

export type { RunOptions, RunResult, RunnerName } from "./types.ts";

export interface RunImageOptions extends Omit<RunOptions, "symbolize"> {
  /** The unstripped image, for symbolized stack traces. */
  debugImage?: string;
  /** Which runner; default "auto" (Kiln's VMM where /dev/kvm is usable, else QEMU). */
  runner?: RunnerName | "auto";
  /** Receives one-line notices (e.g. falling back to QEMU). */
  notice?: (line: string) => void;
}

/** A --runner value, checked. */
export function parseRunner(value: string): RunnerName | "auto" {
  if (value === "vmm" || value === "qemu" || value === "auto") return value;
  throw new KilnError(`--runner: unknown runner ${quote(value)}. Use vmm, qemu or auto.`);
}

/**
 * The runner the tests that boot images use: $KILN_TEST_RUNNER (vmm, qemu or auto), else QEMU,
 * which works everywhere. `KILN_TEST_RUNNER=vmm` runs the same tests on Kiln's VMM (needs KVM;
 * scripts/nested-kvm.sh provides one where the machine has none).
 */
export function testRunner(): RunnerName | "auto" {
  const v = process.env.KILN_TEST_RUNNER;
  return v ? parseRunner(v) : "qemu";
}

/** Picks the runner: the one asked for, or for "auto" the VMM when KVM is usable, else QEMU. */
export async function chooseRunner(
  asked: RunnerName | "auto",
  notice?: (line: string) => void,
): Promise<RunnerName> {
  if (asked === "qemu") return "qemu";
  const { kvmAvailable } = await import("../vmm/index.ts").catch(() => ({ kvmAvailable: undefined }));
  const avail = kvmAvailable ? kvmAvailable() : { ok: false as const, reason: "Kiln's VMM is not built into this toolchain" };
  if (avail.ok) return "vmm";
  if (asked === "vmm") throw new KilnError(`cannot use the vmm runner: ${avail.reason}. Use --runner qemu.`);
  notice?.(`kiln: ${avail.reason}; running on QEMU instead.`);
  return "qemu";
}

export async function runImage(image: string, opts: RunImageOptions): Promise<RunResult> {
  if (!existsSync(image)) throw new KilnError(`${image}: no such image. Build it with 'kiln build <app-dir>'.`);
  const symbolize = opts.debugImage && existsSync(opts.debugImage) ? elfSymbolizer(opts.debugImage) : undefined;
  const runner = await chooseRunner(opts.runner ?? "auto", opts.notice);
  if (runner === "vmm") {
    const { runVmm } = await import("./vmm-runner.ts");
    return runVmm(image, { ...opts, symbolize }); // Vm.boot checks the image itself
  }
  // The checks the VMM applies to an untrusted image (x86_64 ELF, PVH note, fits in memory), so
  // QEMU gets no file it would refuse with a vaguer message.
  const { inspectImage, placeModule } = await import("../vmm/loader.ts");
  const parsed = inspectImage(readFileSync(image), image, opts.memory);
  if (opts.initrd) {
    if (!existsSync(opts.initrd)) throw new KilnError(`${opts.initrd}: no such initrd. Build the app again: 'kiln build <app-dir>' writes it.`);
    placeModule(parsed, opts.memory, statSync(opts.initrd).size); // the VMM's rule, so both runners agree
  }
  return runQemu(image, { ...opts, symbolize, devices: opts.devices ?? parsed.devices });
}
