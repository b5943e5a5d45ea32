// The VMM's API: boot a Kiln image on /dev/kvm, stream its console, await its exit, kill it.
//   const vm = await Vm.boot("build/hello/image.elf", { memory: 8 << 20, cmdline: "", console: process.stdout });
//   const { status, reason } = await vm.exited;
// Each VM runs its vCPU in its own worker thread; many VMs can run in one process.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { repoRoot } from "../paths.ts";
import { VcpuControl } from "./control.ts";
import type { UnknownPortCount } from "./devices/io-bus.ts";
import { VmConfigError, VmImageError } from "./errors.ts";
import { KilnError } from "../errors.ts";
import { MAX_MEMORY, MIN_MEMORY, PAGE_SIZE } from "./layout.ts";
import { inspectImage, placeModule } from "./loader.ts";
import type { WorkerInit, WorkerMessage } from "./messages.ts";
import type { LedgerSummary } from "./resources.ts";
import { ByteRing } from "./ring.ts";
import { FAILURE_STATUS, KILLED_STATUS, type LoopStats, type VmExit } from "./run-loop.ts";
import { encodeCmdline } from "./start-info.ts";
import { kvmAvailable } from "./available.ts";
import { loadSys } from "./sys.ts";

export type ConsoleSink = NodeJS.WritableStream | ((bytes: Uint8Array) => void);

export interface VmOptions {
  /** Guest RAM in bytes: a multiple of 4 KiB, 2 MiB to 3 GiB. */
  memory: number;
  cmdline?: string;
  /** A cpio archive to pass as the PVH boot module (the app's rootfs). */
  initrd?: string;
  /** Where the serial console's output goes. Default: discarded. */
  console?: ConsoleSink;
  /** Host input for the serial console. */
  input?: NodeJS.ReadableStream;
  /** If the guest does not exit after kill() within this many ms, its thread is terminated. */
  killGraceMs?: number;
  /**
   * Aborting stops the VM: before the guest runs, the worker is terminated and boot rejects (a
   * setup that hangs must not hang the caller); after, it is kill().
   */
  signal?: AbortSignal;
  /** Tests only: module URL whose `createMachine` replaces KVM's. */
  machineModule?: string;
}

export interface VmResult extends VmExit {
  /** Every fd and mapping the VM made, and whether all were released. */
  resources: LedgerSummary;
  stats: LoopStats;
  /** Accesses to ports no device claims: port -> counts. */
  unknownPorts: Map<number, UnknownPortCount>;
}

const liveVms = new Set<Vm>();
const OUTPUT_POLL_MS = 25;

function checkMemory(memory: number): void {
  if (!Number.isSafeInteger(memory) || memory < MIN_MEMORY || memory > MAX_MEMORY)
    throw new VmConfigError("memory", `${memory} bytes is outside ${MIN_MEMORY} (2 MiB) - ${MAX_MEMORY} (3 GiB)`, "Set memory in the app's kiln.yaml to a value in range");
  if (memory % PAGE_SIZE !== 0) throw new VmConfigError("memory", `${memory} bytes is not a multiple of 4 KiB`, "Round it to whole pages");
}

interface Spare {
  worker: Worker;
  detach: () => void;
}
const spares: Spare[] = [];
/** Workers that ran a VM and have not ended yet: each ends on its own after its VM exits. */
const ending = new Set<Promise<void>>();

function spawnWorker(): Worker {
  const w = new Worker(workerBootstrap(), { eval: true, execArgv: [] });
  return w;
}

/** A started vCPU worker: a prewarmed one if there is one, else a new one. */
function takeWorker(): Worker {
  const spare = spares.shift();
  if (!spare) return spawnWorker();
  spare.detach();
  spare.worker.ref();
  return spare.worker;
}

function workerBootstrap(): string {
  // bin/kiln.js bundles the worker with the CLI and says where; it loads in a fraction of the
  // time tsx needs. Everything else (tests, programs using the API) runs the TypeScript.
  const bundled = process.env.KILN_VCPU_WORKER_BUNDLE;
  if (bundled && existsSync(bundled)) return `import(${JSON.stringify(pathToFileURL(bundled).href)});`;
  // The worker runs TypeScript: register tsx in it explicitly, whatever the parent's loader.
  const tsx = import.meta.resolve("tsx/esm/api");
  // From the package root, not import.meta.url: the CLI may run this module bundled elsewhere.
  const entry = pathToFileURL(path.join(repoRoot, "src", "vmm", "vcpu-worker.ts")).href;
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
}

export class Vm {
  /** VMs whose worker has not yet reported its exit. */
  static get live(): ReadonlySet<Vm> {
    return liveVms;
  }

  /**
   * Starts vCPU workers ahead of need until `count` are spare (a worker takes a while to load
   * the TypeScript and koffi; booting on a prewarmed one skips that). Resolves when they are
   * loaded. Idle spares do not keep the process alive.
   */
  static prewarm(count = 1): Promise<void> {
    const waits: Array<Promise<void>> = [];
    while (spares.length < count) {
      const w = spawnWorker();
      const spare: Spare = { worker: w, detach: () => {} };
      waits.push(
        new Promise<void>((resolve) => {
          const onMessage = (m: WorkerMessage): void => {
            if (m.type !== "ready") return;
            w.unref(); // loaded: an idle spare must not keep the process alive
            resolve();
          };
          const drop = (): void => {
            const i = spares.indexOf(spare);
            if (i >= 0) spares.splice(i, 1);
            resolve();
          };
          w.on("message", onMessage);
          w.on("error", drop);
          w.on("exit", drop);
          // Only our own listeners: Worker keeps internal ones that manage its message port.
          spare.detach = () => {
            w.off("message", onMessage);
            w.off("error", drop);
            w.off("exit", drop);
          };
        }),
      );
      spares.push(spare);
    }
    return Promise.all(waits).then(() => undefined);
  }

  /** Idle prewarmed workers. */
  static get spareWorkers(): number {
    return spares.length;
  }

  /**
   * Resolves once the thread of every VM started so far has ended (spares aside). A VM's
   * `exited` comes first: the thread then winds down, which takes a moment on a busy host.
   */
  static async threadsEnded(): Promise<void> {
    while (ending.size) await Promise.all([...ending]);
  }

  readonly exited: Promise<VmResult>;
  private readonly control: VcpuControl;
  private readonly worker: Worker;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;
  private outputTimer: NodeJS.Timeout | undefined;
  private readonly killGraceMs: number;

  private readonly abandon: (detail: string) => void;

  private constructor(worker: Worker, control: VcpuControl, exited: Promise<VmResult>, killGraceMs: number, abandon: (detail: string) => void) {
    this.abandon = abandon;
    this.worker = worker;
    this.control = control;
    this.exited = exited;
    this.killGraceMs = killGraceMs;
  }

  /**
   * Checks the options and the image (refusing bad ones with a KilnError before anything is
   * created), starts the vCPU worker, and resolves once the guest is running. Rejects if KVM
   * refuses to create the VM; `exited` then holds the details too.
   */
  static async boot(imagePath: string, opts: VmOptions): Promise<Vm> {
    checkMemory(opts.memory);
    const cmdline = opts.cmdline ?? "";
    encodeCmdline(cmdline);
    let image: Uint8Array;
    try {
      image = readFileSync(imagePath);
    } catch (e) {
      throw new VmImageError(imagePath, "unreadable", `cannot read the image (${(e as NodeJS.ErrnoException).code ?? String(e)})`, "Build it with `kiln build <app-dir>`");
    }
    const parsed = inspectImage(image, imagePath, opts.memory);
    let initrd: Uint8Array | undefined;
    if (opts.initrd !== undefined) {
      try {
        initrd = readFileSync(opts.initrd);
      } catch (e) {
        throw new VmConfigError("initrd", `cannot read ${opts.initrd} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, "Build the app again: `kiln build <app-dir>` writes it");
      }
      placeModule(parsed, opts.memory, initrd.length); // refuses one that does not fit, before anything is created
    }
    if (!opts.machineModule) {
      const avail = kvmAvailable();
      if (!avail.ok) throw new KilnError(`cannot start the VM: ${avail.reason}`);
    }

    const control = VcpuControl.create();
    const input = ByteRing.create(4096);
    const init: WorkerInit = { image, file: imagePath, memory: opts.memory, cmdline, control: control.sab, input: input.sab };
    if (initrd) init.initrd = initrd;
    if (opts.machineModule) init.machineModule = opts.machineModule;
    const worker = takeWorker();
    const ended = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    ending.add(ended);
    void ended.then(() => ending.delete(ended));

    const write = sinkWriter(opts.console);
    let running!: () => void;
    let failedToStart!: (e: Error) => void;
    const started = new Promise<void>((res, rej) => {
      running = res;
      failedToStart = rej;
    });
    let vm: Vm | undefined;
    let isRunning = false;
    let abandon: (detail: string) => void = () => {};
    const exited = new Promise<VmResult>((resolve) => {
      let reported = false;
      const finish = (r: VmResult, phase: "setup" | "run"): void => {
        if (reported) return;
        reported = true;
        if (vm) vm.finished();
        stopInput();
        if (phase === "setup") failedToStart(new KilnError(`cannot start the VM: ${r.detail}`));
        resolve(r);
      };
      worker.on("message", (m: WorkerMessage) => {
        if (process.env.KILN_VMM_DEBUG) process.stderr.write(`vmm: worker message ${m.type}\n`);
        if (m.type === "output") write(m.bytes);
        else if (m.type === "running") {
          isRunning = true;
          running();
        }
        else if (m.type === "exit") finish({ ...m.exit, resources: m.resources, stats: m.stats, unknownPorts: new Map(m.unknownPorts) }, m.phase);
      });
      const lost = (detail: string, reason: "vmm-error" | "killed" = "vmm-error"): void =>
        finish(
          {
            status: reason === "killed" ? KILLED_STATUS : FAILURE_STATUS,
            reason,
            detail,
            resources: { opened: 0, released: 0, outstanding: [], failures: [`vCPU worker lost: ${detail}; fds and mappings it held are unaccounted for`] },
            stats: { exits: 0, ioExits: 0, mmioExits: 0, kicks: 0 },
            unknownPorts: new Map(),
          },
          isRunning ? "run" : "setup",
        );
      worker.on("error", (e) => lost(`vCPU worker failed: ${e.message}`));
      worker.on("exit", (code) => lost(`vCPU worker exited (code ${code}) without reporting`));
      abandon = (detail) => lost(detail, "killed");
    });

    worker.postMessage(init);
    const stopInput = pipeInput(opts.input, input, () => vm?.kick());
    vm = new Vm(worker, control, exited, opts.killGraceMs ?? 5000, (d) => abandon(d));
    liveVms.add(vm);
    vm.watchOutput();
    const onAbort = (): void => {
      if (isRunning) vm?.kill();
      else {
        void worker.terminate();
        abandon("aborted before the guest started; vCPU thread terminated");
      }
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener("abort", onAbort, { once: true });
    void exited.then(() => opts.signal?.removeEventListener("abort", onAbort));
    await started;
    return vm;
  }

  /** Kicks the worker when console output has waited a whole poll period (see VcpuControl). */
  private watchOutput(): void {
    let seen = false;
    this.outputTimer = setInterval(() => {
      const pending = this.control.outputPending;
      if (pending && seen) this.kick();
      seen = pending;
    }, OUTPUT_POLL_MS);
    this.outputTimer.unref();
  }

  private finished(): void {
    if (this.outputTimer) clearInterval(this.outputTimer);
    this.done = true;
    liveVms.delete(this);
    if (this.killTimer) clearTimeout(this.killTimer);
  }

  /** Interrupts KVM_RUN so the worker looks at its input and stop flag. */
  private kick(): void {
    if (!this.done) this.control.kick(loadSys());
  }

  /**
   * Stops the VM: `exited` resolves with reason "killed" (status 137). A worker that does not
   * stop within the grace period is terminated.
   */
  kill(): void {
    if (this.done) return;
    this.control.requestStop();
    this.kick();
    if (!this.killTimer) {
      // A vCPU that ignores the kick (it should not happen) must not hang the host: terminate
      // the thread and settle `exited` anyway, saying what may have leaked.
      this.killTimer = setTimeout(() => {
        void this.worker.terminate();
        this.abandon(`the vCPU thread did not stop within ${this.killGraceMs} ms of kill(); thread terminated`);
      }, this.killGraceMs);
      this.killTimer.unref();
    }
  }
}

function sinkWriter(sink: ConsoleSink | undefined): (bytes: Uint8Array) => void {
  if (!sink) return () => {};
  if (typeof sink === "function") return sink;
  return (bytes) => void sink.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
}

/** Copies host input into the ring, kicking the vCPU so it notices; returns a stop function. */
function pipeInput(stream: NodeJS.ReadableStream | undefined, ring: ByteRing, kick: () => void): () => void {
  if (!stream) return () => {};
  let pending: Uint8Array | undefined;
  let timer: NodeJS.Timeout | undefined;
  const push = (): void => {
    timer = undefined;
    if (!pending) return;
    const n = ring.write(pending);
    if (n > 0) kick();
    pending = n < pending.length ? pending.subarray(n) : undefined;
    if (pending) timer = setTimeout(push, 5);
    else stream.resume();
  };
  const onData = (chunk: Buffer | string): void => {
    pending = typeof chunk === "string" ? new TextEncoder().encode(chunk) : new Uint8Array(chunk);
    stream.pause();
    push();
  };
  stream.on("data", onData);
  return () => {
    stream.off("data", onData);
    stream.pause(); // a paused stdin no longer keeps the process alive
    if (timer) clearTimeout(timer);
  };
}

export { KILLED_STATUS, FAILURE_STATUS };
