// The vmm runner: boots the image on Kiln's own VMM in this process (src/vmm).
import { KilnError } from "../errors.ts";
import { Vm } from "../vmm/index.ts";
import { ConsoleFilter } from "./console-filter.ts";
import type { RunOptions, RunResult } from "./types.ts";

export async function runVmm(image: string, opts: RunOptions): Promise<RunResult> {
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
  const timeoutError = () => new KilnError(`the guest did not exit within ${opts.timeoutMs} ms (vmm); killed it.`);
  const booting = Vm.boot(image, {
    memory: opts.memory,
    cmdline: opts.cmdline,
    ...(opts.initrd ? { initrd: opts.initrd } : {}),
    console: (bytes) => {
      const shown = filter.push(decoder.decode(bytes, { stream: true }));
      if (shown) opts.onOutput?.(shown);
    },
    input: opts.interactive ? process.stdin : undefined,
    signal: abort.signal,
    ...(opts.devices ? { devices: opts.devices } : {}),
    ...(opts.devicesFirst ? { devicesFirst: true } : {}),
  });
  const vm = await booting.catch((e: unknown) => {
    if (timer) clearTimeout(timer);
    throw timedOut ? timeoutError() : e;
  });
  const r = await vm.exited.finally(() => timer && clearTimeout(timer));
  const wallMs = performance.now() - started;
  const tail = filter.end();
  if (tail) opts.onOutput?.(tail);
  if (timedOut) throw timeoutError();
  if (r.reason !== "exit") {
    throw new KilnError(
      `the VM stopped without a guest exit status: ${r.detail}` + (r.registers?.length ? `\n${r.registers.join("\n")}` : ""),
    );
  }
  return { status: r.status, output: filter.raw, wallMs, runner: "vmm" };
}
