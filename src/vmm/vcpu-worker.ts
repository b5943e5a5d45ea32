// The vCPU thread: KVM_RUN blocks, so each VM runs its loop here and the main thread stays free.
// Started ahead of need (Vm.prewarm), it loads its modules and koffi first, then waits for the
// one VM it will run; after that VM ends the thread ends.
import { parentPort } from "node:worker_threads";
import { createMachine } from "./kvm.ts";
import type { WorkerInit, WorkerMessage } from "./messages.ts";
import { loadSys } from "./sys.ts";
import { runVcpuWorker, type MachineFactory } from "./worker-main.ts";

const port = parentPort;
if (!port) throw new Error("vcpu-worker.ts must run in a worker thread");
let sys: ReturnType<typeof loadSys> | undefined;
try {
  sys = loadSys();
} catch {
  // Reported by the VM that uses this worker, where the error has a context.
}
port.postMessage({ type: "ready" } satisfies WorkerMessage);
port.once("message", (init: WorkerInit) => {
  void (async () => {
    const factory: MachineFactory = init.machineModule
      ? ((await import(init.machineModule)) as { createMachine: MachineFactory }).createMachine
      : createMachine;
    runVcpuWorker(init, (m: WorkerMessage) => port.postMessage(m), sys ?? loadSys(), factory);
  })();
});
