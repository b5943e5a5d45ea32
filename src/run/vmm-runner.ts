// The vmm runner: boots the image on Kiln's own VMM in this process (src/vmm).
import { KilnError } from "../errors.ts";
import { Vm } from "../vmm/index.ts";
import { readFileSync } from "node:fs";
import { inspectImage } from "../vmm/loader.ts";
import { composeCmdline } from "./cmdline.ts";
import { ConsoleFilter } from "./console-filter.ts";
import { openGuestNetwork, type GuestNetwork } from "./guest-network.ts";
import type { RunOptions, RunResult } from "./types.ts";

export async function runVmm(image: string, opts: RunOptions): Promise<RunResult> {
  // An image with a virtio-net driver gets a TAP (and the port proxy) for the run's length: the
  // VMM's device thread reads and writes the fd; it is closed here after the VM, on every path.
  const devices = opts.devices ?? inspectImage(readFileSync(image), image, opts.memory).devices;
  const nw = await openGuestNetwork(devices.includes("virtio-net"), opts.net, "vmm");
  try {
    if (nw) opts.onNetwork?.({ mode: nw.mode, guestIp: nw.guestIp });
    return await runVmmWith(image, { ...opts, devices }, nw);
  } finally {
    await nw?.close();
  }
}

async function runVmmWith(image: string, opts: RunOptions, nw: GuestNetwork | undefined): Promise<RunResult> {
  const filter = new ConsoleFilter({ verbose: opts.verbose, symbolize: opts.symbolize });
  const decoder = new TextDecoder();
  const started = performance.now();
  // The timeout covers the whole run, setup included: a VM that never starts must not hang us.
  let timedOut = false;
  const abort = new AbortController();
  const timer =
    opts.timeoutMs !== undefined
      ? setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, opts.timeoutMs)
      : undefined;
  let stopped = false;
  const onStop = () => {
    stopped = true;
    abort.abort();
  };
  if (opts.stop?.aborted) onStop();
  else opts.stop?.addEventListener("abort", onStop, { once: true });
  const stoppedResult = (): RunResult => ({ status: 137, output: filter.raw, wallMs: performance.now() - started, runner: "vmm", stopped: true });
  const timeoutError = () => new KilnError(`the guest did not exit within ${opts.timeoutMs} ms (vmm); killed it.`);
  const booting = Vm.boot(image, {
    memory: opts.memory,
    cmdline: nw ? composeCmdline(opts.cmdline, [nw.words], undefined) : opts.cmdline,
    ...(nw?.tap ? { net: { fd: nw.tap.fd, mac: nw.tap.plan.mac, ...(nw.faults ? { faults: nw.faults } : {}) } } : {}),
    ...(opts.initrd ? { initrd: opts.initrd } : {}),
    console: (bytes) => {
      const shown = filter.push(decoder.decode(bytes, { stream: true }));
      if (shown) opts.onOutput?.(shown);
    },
    input: opts.interactive ? (opts.input ?? process.stdin) : undefined,
    signal: abort.signal,
    ...(opts.devices ? { devices: opts.devices } : {}),
    ...(opts.devicesFirst ? { devicesFirst: true } : {}),
  });
  const vm = await booting.catch((e: unknown) => {
    if (timer) clearTimeout(timer);
    if (stopped && !timedOut) return undefined;
    throw timedOut ? timeoutError() : e;
  });
  if (!vm) return stoppedResult();
  const r = await vm.exited.finally(() => {
    if (timer) clearTimeout(timer);
    opts.stop?.removeEventListener("abort", onStop);
  });
  const wallMs = performance.now() - started;
  const tail = filter.end();
  if (tail) opts.onOutput?.(tail);
  if (timedOut) throw timeoutError();
  if (stopped && r.reason === "killed") return stoppedResult();
  if (r.reason !== "exit") {
    throw new KilnError(
      `the VM stopped without a guest exit status: ${r.detail}` + (r.registers?.length ? `\n${r.registers.join("\n")}` : ""),
    );
  }
  return { status: r.status, output: filter.raw, wallMs, runner: "vmm" };
}
