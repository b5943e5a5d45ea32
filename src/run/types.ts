import type { Symbolizer } from "./console-filter.ts";
import type { DeviceName } from "../vmm/elf.ts";
import type { NetMode, NetOptions } from "./net-options.ts";

export type RunnerName = "qemu" | "vmm";

export interface RunOptions {
  /** Guest memory in bytes. */
  memory: number;
  /** Kernel command line (library parameters, then `--` and app arguments). */
  cmdline: string;
  /** A cpio archive passed as the PVH boot module: the app's rootfs (BuildResult.initrd). */
  initrd?: string;
  /** Kill the guest and fail after this long. */
  timeoutMs?: number;
  /** Aborting it stops the guest (a server, say); the run then resolves with `stopped: true`, status 137. */
  stop?: AbortSignal;
  /** Receives the console as a person should see it, as it arrives. */
  onOutput?: (text: string) => void;
  /** Show protocol lines too. */
  verbose?: boolean;
  /** Names for stack-trace addresses. */
  symbolize?: Symbolizer;
  /** Connect the terminal's input to the guest console. */
  interactive?: boolean;
  /** vmm only: where that input comes from (default: this process's stdin; the helper's client's). */
  input?: NodeJS.ReadableStream;
  /** Devices to attach; default: those the image's notes ask for ([] boots it without). */
  devices?: DeviceName[];
  /** vmm only: the virtio device thread takes the devices before the guest runs (VmOptions.devicesFirst). */
  devicesFirst?: boolean;
  /** The guest's network (images with a network driver): backend and published ports. */
  net?: NetOptions;
  /** Told the guest's network once it exists, before the guest boots (benchmarks reach a TAP guest directly). */
  onNetwork?: (n: { mode: NetMode; guestIp: string }) => void;
  /** QEMU only: force an accelerator (default: kvm when usable, else tcg). */
  accel?: "kvm" | "tcg";
}

export interface RunResult {
  /** The guest's exit status (0-255; 255 after a fatal exception). */
  status: number;
  /** Everything the guest printed (CR removed, protocol lines included). */
  output: string;
  /** Wall time of the whole run, host side. */
  wallMs: number;
  runner: RunnerName;
  accel?: string;
  /** The run ended because `stop` was aborted, not by the guest. */
  stopped?: boolean;
}
