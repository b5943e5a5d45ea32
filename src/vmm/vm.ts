// The VMM's API: boot a Kiln image on /dev/kvm, stream its console, await its exit, kill it.
//   const vm = await Vm.boot("build/hello/image.elf", { memory: 8 << 20, cmdline: "", console: process.stdout });
//   const { status, reason } = await vm.exited;
// Each VM runs its vCPU in its own worker thread; many VMs can run in one process.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { VcpuControl } from "./control.ts";
import type { UnknownPortCount } from "./devices/io-bus.ts";
import { VmConfigError, VmImageError } from "./errors.ts";
import { KilnError } from "../errors.ts";
import { MAX_MEMORY, MIN_MEMORY, PAGE_SIZE } from "./layout.ts";
import { placeModule } from "./loader.ts";
import type { WorkerInit, WorkerMessage } from "./messages.ts";
import type { LedgerSummary } from "./resources.ts";
import { ByteRing } from "./ring.ts";
import { FAILURE_STATUS, KILLED_STATUS, type LoopStats, type VmExit } from "./run-loop.ts";
import { encodeCmdline } from "./start-info.ts";
import { kvmAvailable } from "./available.ts";
import { loadSys } from "./sys.ts";
import { threads, type VcpuThread } from "./vcpu-threads.ts";
import { checkPlacement, parseElf, type DeviceName, type ElfImage } from "./elf.ts";
import { announceVirtio, virtioSlots } from "./devices/virtio/layout.ts";
import { DevicePort } from "./devices/virtio/vm-port.ts";
import type { VirtioDeviceReport } from "./devices/virtio/device-thread.ts";
import type { NetAttach } from "./net/attach.ts";

export type ConsoleSink = NodeJS.WritableStream | ((bytes: Uint8Array) => void);

export interface VmOptions {
  /** Guest RAM in bytes: a multiple of 4 KiB, 1 MiB to 3 GiB. */
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
  /**
   * virtio devices to attach (announced to the guest as virtio_mmio.device= on the command
   * line). Default: those the image's notes ask for; [] boots it without.
   */
  devices?: DeviceName[];
  /**
   * The virtio device thread loads while the guest boots, and the vCPU thread serves the
   * devices until it is up. true: wait for it before the guest runs, so every notification goes
   * through KVM_IOEVENTFD from the first (tests of the data path; costs the load at boot).
   */
  devicesFirst?: boolean;
  /**
   * The network of an image with virtio-net: a TAP fd the caller opened (net/tap.ts) and closes
   * after `exited`, the guest's MAC, and faults to inject (net/faults.ts). Required when the
   * devices include virtio-net.
   */
  net?: NetAttach;
  /** Tests only: module URL whose `createMachine` replaces KVM's. */
  machineModule?: string;
}

export interface VmResult extends VmExit {
  /** Every fd and mapping the VM made, and whether all were released. */
  resources: LedgerSummary;
  stats: LoopStats;
  /** Accesses to ports no device claims: port -> counts. */
  unknownPorts: Map<number, UnknownPortCount>;
  /** Each virtio device's final state and counters (when the VM had any). */
  virtio?: VirtioDeviceReport[];
}

const liveVms = new Set<Vm>();
let kvmUsable = false;

/** A file's bytes as last read, the hash that names them, and (for an image) its parse. */
interface FileContent {
  stamp: string;
  bytes: Uint8Array;
  key: string;
  parsed?: ElfImage;
}
const files = new Map<string, FileContent>();

/**
 * The file's content, read again only when its size, inode, mtime or ctime changed (a stat
 * costs far less than reading and parsing an image at every boot). The key is a hash of the
 * bytes: what a pooled shell compares to know it already holds this guest.
 */
function fileContent(file: string): FileContent {
  const st = statSync(file, { bigint: true });
  const stamp = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  const had = files.get(file);
  if (had?.stamp === stamp) return had;
  const bytes = readFileSync(file);
  const c: FileContent = { stamp, bytes, key: createHash("sha256").update(bytes).digest("hex") };
  if (files.size >= 16) files.delete(files.keys().next().value!);
  files.set(file, c);
  return c;
}
const OUTPUT_POLL_MS = 25;

function checkMemory(memory: number): void {
  if (!Number.isSafeInteger(memory) || memory < MIN_MEMORY || memory > MAX_MEMORY)
    throw new VmConfigError("memory", `${memory} bytes is outside ${MIN_MEMORY} (1 MiB) - ${MAX_MEMORY} (3 GiB)`, "Set memory in the app's kiln.yaml to a value in range");
  if (memory % PAGE_SIZE !== 0) throw new VmConfigError("memory", `${memory} bytes is not a multiple of 4 KiB`, "Round it to whole pages");
}

export class Vm {
  /** VMs whose worker has not yet reported its exit. */
  static get live(): ReadonlySet<Vm> {
    return liveVms;
  }

  /**
   * Starts vCPU threads ahead of need until `count` are spare (a thread takes a while to load
   * the TypeScript and koffi; booting on a spare skips that). Resolves when they are loaded.
   * Idle threads do not keep the process alive.
   */
  static async prewarm(count = 1): Promise<void> {
    for (let n = threads.spares; n < count; n++) threads.spawn();
    while ([...threads.all].some((t) => t.phase === "loading")) await threads.next();
  }

  /** Idle (or loading) vCPU threads holding no shell. */
  static get spareWorkers(): number {
    return threads.spares;
  }

  /**
   * Keeps `size` VM shells of `memory` bytes ready (see docs/vmm.md, "Warm pool"): `Vm.boot` with
   * that memory size takes one, and after its guest exits the shell is reset in the background
   * and ready again. Resolves when all are ready; rejects (and drops the pool) if KVM refuses to
   * make one. Calling it again for the same size changes the size.
   */
  static async pool(opts: PoolOptions): Promise<VmPool> {
    checkMemory(opts.memory);
    if (!Number.isInteger(opts.size) || opts.size < 0) throw new VmConfigError("size", `${opts.size} is not a whole number of shells`, "Pass size: 0 or more");
    if (!opts.machineModule) {
      const avail = kvmAvailable();
      if (!avail.ok) throw new KilnError(`cannot make a VM pool: ${avail.reason}`);
    }
    const failuresBefore = threads.shellFailures.length;
    threads.pools.set(opts.memory, { size: opts.size, ...(opts.machineModule ? { machineModule: opts.machineModule } : {}) });
    threads.changed();
    const pool = new VmPool(opts.memory);
    while (threads.readyShells(opts.memory) < opts.size) {
      if (threads.shellFailures.length > failuresBefore) {
        await pool.close();
        throw new KilnError(threads.shellFailures.at(-1)!);
      }
      await threads.next();
    }
    return pool;
  }

  /**
   * Waits for every thread to be idle, then runs a full garbage collection in each (and in this
   * thread, when started with --expose-gc). For leak checks: V8's heap pages come and go with
   * its collections, which would hide or fake a leak of a few mappings per VM.
   */
  static async collectGarbage(): Promise<void> {
    await Vm.settled();
    for (const t of threads.all) if (t.phase === "idle") t.request({ type: "collect" });
    await Vm.settled();
    (globalThis as { gc?: () => void }).gc?.();
  }

  /**
   * Resolves once every vCPU thread is idle: each VM's teardown done (a cold VM's destruction,
   * a pooled shell's reset) and the pools made. A VM's `exited` comes first.
   */
  static async settled(): Promise<void> {
    while (!threads.quiet) await threads.next();
  }

  readonly exited: Promise<VmResult>;
  private readonly control: VcpuControl;
  private readonly thread: VcpuThread;
  /** Whether it runs in a pooled shell. */
  readonly warm: boolean;
  private done = false;
  private killTimer: NodeJS.Timeout | undefined;
  private outputTimer: NodeJS.Timeout | undefined;
  private readonly killGraceMs: number;

  private readonly abandon: (detail: string) => void;

  private constructor(thread: VcpuThread, warm: boolean, control: VcpuControl, exited: Promise<VmResult>, killGraceMs: number, abandon: (detail: string) => void) {
    this.abandon = abandon;
    this.thread = thread;
    this.warm = warm;
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
    encodeCmdline(opts.cmdline ?? "");
    let image: FileContent;
    try {
      image = fileContent(imagePath);
    } catch (e) {
      throw new VmImageError(imagePath, "unreadable", `cannot read the image (${(e as NodeJS.ErrnoException).code ?? String(e)})`, "Build it with `kiln build <app-dir>`");
    }
    image.parsed ??= parseElf(image.bytes, imagePath);
    const parsed = image.parsed;
    checkPlacement(parsed, opts.memory, imagePath);
    let initrd: FileContent | undefined;
    if (opts.initrd !== undefined) {
      try {
        initrd = fileContent(opts.initrd);
      } catch (e) {
        throw new VmConfigError("initrd", `cannot read ${opts.initrd} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, "Build the app again: `kiln build <app-dir>` writes it");
      }
      placeModule(parsed, opts.memory, initrd.bytes.length); // refuses one that does not fit, before anything is created
    }
    const devices = opts.devices ?? parsed.devices;
    if (devices.includes("virtio-net") && !opts.net)
      throw new VmConfigError("net", "the image has a virtio-net driver but no network was given", "Pass net: { fd, mac } with a TAP (Tap.open() in src/vmm/net/tap.ts), or devices without virtio-net");
    if (opts.net && !(Number.isInteger(opts.net.fd) && opts.net.fd >= 0 && opts.net.mac.length === 6))
      throw new VmConfigError("net", `fd ${opts.net.fd} / a ${opts.net.mac.length}-byte MAC is not a network`, "Pass the fd of an open TAP and a 6-byte MAC");
    const cmdline = devices.length ? announceVirtio(opts.cmdline ?? "", virtioSlots(devices)) : opts.cmdline ?? "";
    encodeCmdline(cmdline);
    if (!opts.machineModule && !kvmUsable) {
      const avail = kvmAvailable();
      if (!avail.ok) throw new KilnError(`cannot start the VM: ${avail.reason}`);
      kvmUsable = true; // /dev/kvm does not go away under a running process; a VM that fails says why anyway
    }

    const control = VcpuControl.create();
    const input = ByteRing.create(4096);
    const init: WorkerInit = { image: image.bytes, imageKey: image.key, file: imagePath, memory: opts.memory, cmdline, control: control.sab, input: input.sab };
    if (initrd) {
      init.initrd = initrd.bytes;
      init.initrdKey = initrd.key;
    }
    if (opts.machineModule) init.machineModule = opts.machineModule;
    // A pooled shell of this size if one is ready, or soon will be (being reset); else cold.
    let taken = threads.take(opts.memory);
    while (!taken.warm && threads.pools.has(opts.memory) && threads.shellsComing(opts.memory)) {
      await threads.next();
      taken = threads.take(opts.memory);
    }
    const { thread, warm } = taken;

    const write = sinkWriter(opts.console);
    const devicePort = devices.length ? new DevicePort(write) : undefined;
    if (devicePort) {
      init.devices = devices;
      init.devicePort = devicePort.remote;
      if (opts.devicesFirst) init.devicesFirst = true;
      if (opts.net && devices.includes("virtio-net")) init.net = opts.net;
    }
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
      const finish = (r: VmResult, phase: "setup" | "run", workerLost = false): void => {
        if (reported) return;
        reported = true;
        const settle = (): void => {
          if (vm) vm.finished();
          stopInput();
          if (phase === "setup") failedToStart(new KilnError(`cannot start the VM: ${r.detail}`));
          resolve(devicePort?.report ? { ...r, virtio: devicePort.report } : r);
        };
        // The device thread's last output and report come on their own port: wait for them.
        if (devicePort && phase === "run" && !workerLost) void devicePort.closed(2000).then(settle);
        else settle();
      };
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
          true,
        );
      thread.run(
        {
          message: (m: WorkerMessage) => {
            if (process.env.KILN_VMM_DEBUG) process.stderr.write(`vmm: worker message ${m.type}\n`);
            if (m.type === "output") write(m.bytes);
            else if (m.type === "running") {
              isRunning = true;
              running();
            } else if (m.type === "exit") {
              if (m.output) write(m.output);
              finish({ ...m.exit, resources: m.resources, stats: m.stats, unknownPorts: new Map(m.unknownPorts) }, m.phase);
            }
          },
          lost: (detail) => lost(detail),
        },
        { type: "run", init, warm },
        devicePort ? [devicePort.remote] : [],
      );
      abandon = (detail) => lost(detail, "killed");
    });

    const stopInput = pipeInput(opts.input, input, () => vm?.kick());
    vm = new Vm(thread, warm, control, exited, opts.killGraceMs ?? 5000, (d) => abandon(d));
    liveVms.add(vm);
    vm.watchOutput();
    const onAbort = (): void => {
      if (isRunning) vm?.kill();
      else {
        thread.terminate();
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
        this.thread.terminate();
        this.abandon(`the vCPU thread did not stop within ${this.killGraceMs} ms of kill(); thread terminated`);
      }, this.killGraceMs);
      this.killTimer.unref();
    }
  }
}

export interface PoolOptions {
  /** How many shells to keep ready. */
  size: number;
  /** Their guest RAM in bytes (a VM takes a shell only of exactly its memory size). */
  memory: number;
  /** Tests only: module URL whose `createShell` replaces KVM's. */
  machineModule?: string;
}

/** A pool made by Vm.pool: how many of its shells are ready, and close() to destroy them. */
export class VmPool {
  readonly memory: number;
  constructor(memory: number) {
    this.memory = memory;
  }
  get ready(): number {
    return threads.readyShells(this.memory);
  }
  /** Stops keeping shells of this size and destroys them (a busy one once its VM is done). */
  async close(): Promise<void> {
    threads.pools.delete(this.memory);
    threads.changed();
    while ([...threads.all].some((t) => t.shell === this.memory)) await threads.next();
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
