// What passes between a Vm handle (main thread) and its vCPU worker.
import type { UnknownPortCount } from "./devices/io-bus.ts";
import type { LedgerSummary } from "./resources.ts";
import type { LoopStats, VmExit } from "./run-loop.ts";

export interface WorkerInit {
  image: Uint8Array;
  file: string;
  memory: number;
  cmdline: string;
  /** The boot module (cpio initrd), if any. */
  initrd?: Uint8Array;
  control: SharedArrayBuffer;
  input: SharedArrayBuffer;
  /** Tests only: a module whose `createMachine` replaces KVM's (see testing/fake-machine.ts). */
  machineModule?: string;
}

export type WorkerMessage =
  | { type: "ready" } // modules and koffi loaded; waiting for its WorkerInit
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
    };
