// What passes between a Vm handle (main thread) and its vCPU worker.
import type { MessagePort } from "node:worker_threads";
import type { UnknownPortCount } from "./devices/io-bus.ts";
import type { DeviceName } from "./elf.ts";
import type { NetAttach } from "./net/attach.ts";
import type { LedgerSummary } from "./resources.ts";
import type { LoopStats, VmExit } from "./run-loop.ts";

export interface WorkerInit {
  image: Uint8Array;
  file: string;
  memory: number;
  cmdline: string;
  /** The boot module (cpio initrd), if any. */
  initrd?: Uint8Array;
  /** Content hashes of the image and initrd: a pooled shell prepares the next boot of the same guest ahead. */
  imageKey?: string;
  initrdKey?: string;
  control: SharedArrayBuffer;
  input: SharedArrayBuffer;
  /** virtio devices to attach (already announced in cmdline), and the port their thread posts to. */
  devices?: DeviceName[];
  devicePort?: MessagePort;
  /** Hand the devices to their thread before the guest runs (see VmOptions.devicesFirst). */
  devicesFirst?: boolean;
  /** virtio-net's TAP fd (the caller's; the VM never closes it), MAC and faults. */
  net?: NetAttach;
  /** Tests only: a module whose `createMachine` replaces KVM's (see testing/fake-machine.ts). */
  machineModule?: string;
}

/** Main thread to worker. A worker serves one request at a time, VM after VM. */
export type WorkerRequest =
  /** Run a VM; `warm`: in the worker's shell (same memory size), else in a machine made for it. */
  | { type: "run"; init: WorkerInit; warm: boolean }
  /** Make a shell of this size ahead of need (replacing any other). */
  | { type: "shell"; memory: number; machineModule?: string }
  /** Destroy the shell (the worker stays, idle). */
  | { type: "drop-shell" }
  /** Run a full garbage collection (leak checks: V8's heap pages otherwise come and go). */
  | { type: "collect" };

export type WorkerMessage =
  | { type: "ready" } // modules and koffi loaded; waiting for a request
  /** The last request is done (a VM's teardown or reset included): the memory size of the shell it holds. */
  | { type: "idle"; shell?: number; shellFailure?: string }
  | { type: "running" }
  | { type: "output"; bytes: Uint8Array }
  | {
      type: "exit";
      exit: VmExit;
      /** "setup" if the VM never started (KVM refused something). */
      phase: "setup" | "run";
      resources: LedgerSummary;
      stats: LoopStats;
      unknownPorts: Array<[number, UnknownPortCount]>;
      /** The console output not yet sent (one message fewer at the end). */
      output?: Uint8Array;
    };

/** The console output a run's messages carry, in order (the exit report's last piece included). */
export function outputChunks(messages: WorkerMessage[]): Uint8Array[] {
  return messages.flatMap((m) => (m.type === "output" ? [m.bytes] : m.type === "exit" && m.output ? [m.output] : []));
}
