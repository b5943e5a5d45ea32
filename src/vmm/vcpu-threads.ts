// The vCPU threads of this process, kept for reuse: a thread runs one VM after another and never
// ends on its own. (It could not end cleanly anyway: koffi 3.3.4 never frees the per-thread
// state it makes on a thread's first call, so every worker thread that ends leaves its 1 MiB
// call stack, guard page and 2 MiB heap mapped: 3 mappings. That was the mapping leak of 5
// batches of 20 VMs growing /proc/self/maps by ~55 a batch.) Idle threads are unref'd, so they
// never keep the process alive.
//
// A thread may hold a shell (shell.ts) for the warm pool: `pools` says how many shells of each
// memory size to keep, and refill() asks idle threads to make them.
import path from "node:path";
import { Worker, type MessagePort } from "node:worker_threads";
import { workerScript } from "./worker-script.ts";
import type { WorkerMessage, WorkerRequest } from "./messages.ts";

/** What a VM listens to while it owns a thread. */
export interface ThreadClient {
  message(m: WorkerMessage): void;
  lost(detail: string): void;
}

type Phase = "loading" | "idle" | "vm" | "resetting" | "making-shell" | "dropping-shell" | "collecting" | "dead";

export class VcpuThread {
  readonly worker: Worker;
  phase: Phase = "loading";
  /** Memory size of the shell it holds or is making. */
  shell: number | undefined;
  private client: ThreadClient | undefined;
  private warmRun = false;

  /** `loaded`: the worker already said "ready" (bin/kiln.js's early worker, before anyone listened here). */
  constructor(worker: Worker, loaded = false) {
    this.worker = worker;
    worker.on("message", (m: WorkerMessage) => this.onMessage(m));
    worker.on("error", (e) => this.onDeath(`vCPU worker failed: ${e.message}`));
    worker.on("exit", (code) => this.onDeath(`vCPU worker exited (code ${code}) without reporting`));
    if (loaded) this.becomeIdle();
  }

  /** Starts a VM on this thread (idle or still loading: the worker queues the request). */
  run(client: ThreadClient, req: Extract<WorkerRequest, { type: "run" }>, transfer: MessagePort[] = []): void {
    this.client = client;
    this.warmRun = req.warm;
    this.phase = "vm";
    this.worker.ref();
    this.worker.postMessage(req, transfer);
  }

  request(req: Exclude<WorkerRequest, { type: "run" }>): void {
    this.phase = req.type === "shell" ? "making-shell" : req.type === "drop-shell" ? "dropping-shell" : "collecting";
    if (req.type === "shell") this.shell = req.memory;
    this.worker.ref(); // until it is idle again: whoever waits for the pool needs the process alive
    this.worker.postMessage(req);
  }

  private onMessage(m: WorkerMessage): void {
    if (m.type === "ready") {
      if (this.phase === "loading") this.becomeIdle();
      return;
    }
    if (m.type === "idle") {
      // KVM refusing to make a shell will refuse again: stop that pool rather than retry forever
      // (a shell lost to a failed reset is made again once).
      if (m.shellFailure && this.phase === "making-shell" && this.shell !== undefined) threads.pools.delete(this.shell);
      this.shell = m.shell;
      if (m.shellFailure) threads.shellFailures.push(m.shellFailure);
      this.becomeIdle();
      return;
    }
    if (m.type === "exit") {
      const client = this.client;
      this.client = undefined;
      // The worker now resets its shell (warm) or is already done with the VM (cold: it
      // released everything before reporting). Either way its next message is "idle".
      this.phase = this.warmRun ? "resetting" : "vm";
      client?.message(m);
      return;
    }
    this.client?.message(m);
  }

  private becomeIdle(): void {
    this.phase = "idle";
    this.worker.unref();
    threads.changed();
  }

  private onDeath(detail: string): void {
    if (this.phase === "dead") return;
    this.phase = "dead";
    this.shell = undefined;
    threads.all.delete(this);
    const client = this.client;
    this.client = undefined;
    client?.lost(detail);
    threads.changed();
  }

  terminate(): void {
    void this.worker.terminate();
  }
}

/**
 * A vCPU thread needs little heap: a small young generation makes V8 collect often, so the
 * heaps of many idle threads stay small and steady (fewer mappings, less RSS).
 */
const VCPU_HEAP_LIMITS = { maxYoungGenerationSizeMb: Number(process.env.KILN_VCPU_YOUNG_MB ?? 1), maxOldGenerationSizeMb: 256 };

export interface PoolTarget {
  size: number;
  machineModule?: string;
}

class ThreadRegistry {
  readonly all = new Set<VcpuThread>();
  /** Shell sizes to keep: memory -> how many. */
  readonly pools = new Map<number, PoolTarget>();
  /** Why shells could not be made or reset (newest last; Vm.pool reports them). */
  readonly shellFailures: string[] = [];
  private waiters: Array<() => void> = [];

  spawn(): VcpuThread {
    const early = adoptEarlyWorker();
    const t = early ? new VcpuThread(early.worker, early.ready) : new VcpuThread(new Worker(workerBootstrap(), { eval: true, execArgv: [], resourceLimits: VCPU_HEAP_LIMITS }));
    this.all.add(t);
    return t;
  }

  /** A thread for a VM of this memory size: an idle one holding such a shell (warm), else any idle one without a shell, else a new one. */
  take(memory: number): { thread: VcpuThread; warm: boolean } {
    let spare: VcpuThread | undefined;
    for (const t of this.all) {
      if (t.phase === "idle" && t.shell === memory && this.pools.has(memory)) return { thread: t, warm: true };
      if ((t.phase === "idle" || t.phase === "loading") && t.shell === undefined && !spare) spare = t;
    }
    return { thread: spare ?? this.spawn(), warm: false };
  }

  /** Shells of this size on their way to idle (being made or reset): worth waiting for rather than booting cold. */
  shellsComing(memory: number): boolean {
    for (const t of this.all) if (t.shell === memory && (t.phase === "resetting" || t.phase === "making-shell")) return true;
    return false;
  }

  /** Threads loading or idle without a shell. */
  get spares(): number {
    let n = 0;
    for (const t of this.all) if ((t.phase === "idle" || t.phase === "loading") && t.shell === undefined) n++;
    return n;
  }

  /** Idle shells of this size. */
  readyShells(memory: number): number {
    let n = 0;
    for (const t of this.all) if (t.phase === "idle" && t.shell === memory) n++;
    return n;
  }

  /** Resolves at the next state change of any thread. */
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Makes or drops shells to match `pools`, then wakes whoever waits. */
  changed(): void {
    const have = new Map<number, number>();
    for (const t of this.all) if (t.shell !== undefined && t.phase !== "dropping-shell") have.set(t.shell, (have.get(t.shell) ?? 0) + 1);
    for (const t of this.all) {
      if (t.phase !== "idle" || t.shell === undefined) continue;
      const target = this.pools.get(t.shell)?.size ?? 0;
      if ((have.get(t.shell) ?? 0) > target) {
        have.set(t.shell, have.get(t.shell)! - 1);
        t.request({ type: "drop-shell" });
      }
    }
    for (const [memory, target] of this.pools) {
      for (let n = have.get(memory) ?? 0; n < target.size; n++) {
        let t: VcpuThread | undefined;
        for (const c of this.all) if (c.phase === "idle" && c.shell === undefined) { t = c; break; }
        t ??= this.spawn();
        t.request({ type: "shell", memory, ...(target.machineModule ? { machineModule: target.machineModule } : {}) });
      }
    }
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** True when no thread is loading, running a VM, resetting or making a shell. */
  get quiet(): boolean {
    for (const t of this.all) if (t.phase !== "idle") return false;
    return true;
  }
}

export const threads = new ThreadRegistry();

/**
 * The worker bin/kiln.js started before loading the CLI (see there), if it is for the worker
 * bundle this process uses; taken once.
 */
function adoptEarlyWorker(): { worker: Worker; ready: boolean } | undefined {
  const key = Symbol.for("kiln.vcpu-worker");
  const early = (globalThis as Record<symbol, { worker: Worker; bundle: string; ready?: boolean } | undefined>)[key];
  if (!early) return undefined;
  delete (globalThis as Record<symbol, unknown>)[key];
  if (early.bundle !== process.env.KILN_VCPU_WORKER_BUNDLE) {
    void early.worker.terminate();
    return undefined;
  }
  early.worker.ref();
  return { worker: early.worker, ready: early.ready === true };
}

function workerBootstrap(): string {
  return workerScript("src/vmm/vcpu-worker.ts", path.basename(process.env.KILN_VCPU_WORKER_BUNDLE ?? "vcpu-worker.mjs"));
}
