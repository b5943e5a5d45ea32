// The vCPU thread: KVM_RUN blocks, so each VM runs its loop here and the main thread stays free.
import { parentPort, workerData } from "node:worker_threads";
import { createMachine } from "./kvm.ts";
import type { WorkerInit, WorkerMessage } from "./messages.ts";
import { loadSys } from "./sys.ts";
import { runVcpuWorker, type MachineFactory } from "./worker-main.ts";

const init = workerData as WorkerInit;
const port = parentPort;
if (!port) throw new Error("vcpu-worker.ts must run in a worker thread");
const factory: MachineFactory = init.machineModule
  ? ((await import(init.machineModule)) as { createMachine: MachineFactory }).createMachine
  : createMachine;
runVcpuWorker(init, (m: WorkerMessage) => port.postMessage(m), loadSys(), factory);
