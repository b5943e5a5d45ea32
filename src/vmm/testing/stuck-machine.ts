// Test support: a machine factory that never returns, like a VM setup stuck in the kernel.
import type { MachineFactory } from "../worker-main.ts";

export const createMachine: MachineFactory = () => {
  for (;;) {
    // spin: only terminating the worker thread ends this
  }
};
