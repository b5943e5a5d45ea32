// The vCPU thread: KVM_RUN blocks, so each VM runs its loop here and the main thread stays free.
// Started ahead of need (Vm.prewarm, Vm.pool), it loads its modules and koffi once, then runs one
// VM after another. It may hold a shell (shell.ts), a VM made ahead of need: a warm run uses it,
// and after the guest exits the shell is reset here, after the exit was reported, so neither the
// reset nor a VM's destruction is on anyone's boot path.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort } from "node:worker_threads";
import { createMachine } from "./kvm.ts";
import type { WorkerMessage, WorkerRequest } from "./messages.ts";
import { createShell, type Shell, type ShellFactory } from "./shell.ts";
import { loadSys, type Sys } from "./sys.ts";
import { guestKey, prepareGuest, runVcpuWorker, type MachineFactory } from "./worker-main.ts";

const port = parentPort;
if (!port) throw new Error("vcpu-worker.ts must run in a worker thread");
let sys: Sys | undefined;
try {
  sys = loadSys();
} catch {
  // Reported by the VM that uses this worker, where the error has a context.
}
const post = (m: WorkerMessage): void => port.postMessage(m);
let shell: Shell | undefined;
/** The guest (guestKey) the shell's RAM and vCPU are prepared for, if any. */
let preparedFor: string | undefined;

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

async function factories(machineModule: string | undefined): Promise<{ machine: MachineFactory; shell: ShellFactory }> {
  if (!machineModule) return { machine: createMachine, shell: createShell };
  const m = (await import(machineModule)) as { createMachine: MachineFactory; createShell?: ShellFactory };
  return { machine: m.createMachine, shell: m.createShell ?? createShell };
}

function dropShell(): void {
  shell?.destroy();
  shell = undefined;
  preparedFor = undefined;
}

/** Resets the shell; if that fails, destroys it and reports that (the thread is idle then). */
function resetOrDrop(w: Shell): boolean {
  try {
    w.reset();
    return true;
  } catch (e) {
    dropShell();
    post({ type: "idle", shellFailure: `resetting the VM shell failed (${errorText(e)}); it was destroyed` });
    return false;
  }
}

async function serve(req: WorkerRequest): Promise<void> {
  const s = sys ?? loadSys();
  if (req.type === "drop-shell") {
    dropShell();
    post({ type: "idle" });
  } else if (req.type === "collect") {
    setFlagsFromString("--expose-gc");
    (runInNewContext("gc") as () => void)();
    post({ type: "idle", ...(shell ? { shell: shell.memory } : {}) });
  } else if (req.type === "shell") {
    dropShell();
    try {
      shell = (await factories(req.machineModule)).shell(s, req.memory);
      post({ type: "idle", shell: shell.memory });
    } catch (e) {
      post({ type: "idle", shellFailure: `cannot make a VM shell of ${req.memory} bytes: ${errorText(e)}` });
    }
  } else {
    let warm = req.warm && shell !== undefined && shell.memory === req.init.memory ? shell : undefined;
    const key = guestKey(req.init);
    const ready = warm !== undefined && key !== undefined && preparedFor === key;
    if (warm && preparedFor !== undefined && !ready) {
      // Prepared for another guest: its image is in RAM. Reset again (a new guest's RAM is zeros).
      preparedFor = undefined;
      try {
        warm.reset();
      } catch {
        dropShell();
        warm = undefined;
      }
    }
    preparedFor = undefined;
    const f = await factories(req.init.machineModule);
    const w = warm;
    runVcpuWorker(req.init, post, s, w ? () => w.machine : f.machine, ready);
    if (!w) {
      post({ type: "idle", ...(shell ? { shell: shell.memory } : {}) });
      return;
    }
    if (!resetOrDrop(w)) return;
    // The next boot is likely the same guest (a server's next request, a benchmark): load it now,
    // off the boot path. A different guest makes the run above reset the shell again first.
    if (key !== undefined) {
      try {
        prepareGuest(req.init, w.machine, s);
        preparedFor = key;
      } catch {
        if (!resetOrDrop(w)) return;
      }
    }
    post({ type: "idle", shell: w.memory });
  }
}

let queue = Promise.resolve();
port.on("message", (req: WorkerRequest) => {
  queue = queue.then(() => serve(req));
});
post({ type: "ready" });
