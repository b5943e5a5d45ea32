// Everything the vCPU worker does, as a function of its inputs (the thread entry is
// vcpu-worker.ts): create the machine, load the image, wire the devices, run the loop, and
// release every fd and mapping before reporting the exit.
import { pvhRegs, pvhSregs } from "./boot-state.ts";
import { VcpuControl, KICK_SIGNAL } from "./control.ts";
import { IoBus } from "./devices/io-bus.ts";
import { ExitPort } from "./devices/exit-port.ts";
import { HostConsole } from "./devices/host-console.ts";
import { COM1_IRQ, Uart16550 } from "./devices/uart16550.ts";
import { VirtioHost } from "./devices/virtio/host.ts";
import { GuestMemory } from "./guest-memory.ts";
import type { KvmMachine } from "./kvm.ts";
import { loadImage } from "./loader.ts";
import type { ElfImage } from "./elf.ts";
import type { WorkerInit, WorkerMessage } from "./messages.ts";
import { ResourceLedger } from "./resources.ts";
import { ByteRing } from "./ring.ts";
import { FAILURE_STATUS, runLoop, type LoopStats, type VmExit } from "./run-loop.ts";
import { SIGSET_BYTES, SIG_BLOCK, sigset, type Sys } from "./sys.ts";

export type MachineFactory = (sys: Sys, ledger: ResourceLedger, memory: number) => KvmMachine;

/**
 * Output is batched into messages: at a newline unless one was sent in the last 20 ms, at 4 KiB,
 * once held for 20 ms (checked at each exit; the Vm handle kicks a guest that makes none), and
 * with the exit report at the end. A line alone goes at once; a burst of lines costs a message
 * (a wake-up of the main thread, ~0.1 ms on kvm-pvm) per 20 ms, not one a line. With virtio
 * devices (their own output port) every line goes at once, to stay in order with theirs.
 */
const FLUSH_BYTES = 4096;
const FLUSH_MS = 20;
const UART_RX_CAPACITY = 4096;

/** The kick signal, blocked in this thread (only KVM_RUN's own mask lets it in), and that mask. */
function kickMasks(sys: Sys): { kickSet: Uint8Array; runMask: Uint8Array } {
  const kickSet = sigset(KICK_SIGNAL);
  const oldMask = new Uint8Array(SIGSET_BYTES);
  if (sys.pthreadSigmask(SIG_BLOCK, kickSet, oldMask) !== 0) throw new Error("pthread_sigmask failed");
  const runMask = oldMask.slice();
  runMask[(KICK_SIGNAL - 1) >> 3]! &= ~(1 << ((KICK_SIGNAL - 1) & 7));
  return { kickSet, runMask };
}

/**
 * What makes a guest's starting machine: the same key, the same RAM and vCPU state after
 * prepareGuest. Undefined when the caller gave no image key (then nothing is prepared ahead).
 */
export function guestKey(init: WorkerInit): string | undefined {
  if (init.imageKey === undefined || (init.initrd && init.initrdKey === undefined)) return undefined;
  return JSON.stringify([init.imageKey, init.initrdKey ?? "", init.memory, init.cmdline]);
}

let parsedCache: { key: string; image: ElfImage } | undefined;

/**
 * Loads the image and its boot information into a machine's (zeroed) RAM and sets the PVH
 * vCPU state and KVM_RUN's signal mask: everything a guest needs before its first KVM_RUN.
 * A pooled shell does this after its reset, for the next boot of the same guest (vcpu-worker.ts).
 */
export function prepareGuest(init: WorkerInit, machine: KvmMachine, sys: Sys): void {
  const { runMask } = kickMasks(sys);
  let parsed: ElfImage | undefined;
  if (init.imageKey !== undefined && parsedCache?.key === init.imageKey) parsed = parsedCache.image;
  const loaded = loadImage(init.image, init.file, new GuestMemory(machine.memory), init.cmdline, init.initrd, parsed);
  if (init.imageKey !== undefined) parsedCache = { key: init.imageKey, image: loaded.image };
  machine.vcpu.setSregs(pvhSregs(machine.vcpu.getSregs()));
  machine.vcpu.setRegs(pvhRegs(loaded.entry, loaded.startInfo));
  machine.vcpu.setSignalMask(runMask);
}

/**
 * Runs one VM to its end. `prepared`: the machine (a pooled shell) already went through
 * prepareGuest for this init, so the guest is entered at once.
 */
export function runVcpuWorker(init: WorkerInit, post: (m: WorkerMessage) => void, sys: Sys, createMachine: MachineFactory, prepared = false): void {
  const control = new VcpuControl(init.control);
  const input = new ByteRing(init.input);
  const ledger = new ResourceLedger(sys);
  const stats: LoopStats = { exits: 0, ioExits: 0, mmioExits: 0, kicks: 0 };
  const bus = new IoBus();
  let out = new Uint8Array(FLUSH_BYTES);
  let outLen = 0;
  let firstUnflushed = 0;
  let lastFlush = -Infinity;
  // virtio devices write the console on their own port: a held line would then come out of order.
  const otherOutput = (init.devices?.length ?? 0) > 0;
  const flush = (): void => {
    if (outLen === 0) return;
    post({ type: "output", bytes: out.slice(0, outLen) });
    outLen = 0;
    lastFlush = Date.now();
    control.setOutputPending(false);
  };
  let phase: "setup" | "run" = "setup";
  let exit: VmExit;
  let virtio: VirtioHost | undefined;
  try {
    const { kickSet } = kickMasks(sys);
    const machine = createMachine(sys, ledger, init.memory);
    if (!prepared) prepareGuest(init, machine, sys);
    const memory = new GuestMemory(machine.memory);

    const put = (b: number): void => {
      if (outLen === 0) {
        firstUnflushed = Date.now();
        control.setOutputPending(true);
      }
      out[outLen++] = b;
      if (outLen === FLUSH_BYTES || (b === 0x0a && (otherOutput || Date.now() - lastFlush >= FLUSH_MS))) flush();
    };
    const uart = new Uart16550({
      rxCapacity: UART_RX_CAPACITY,
      output: put,
      irq: (level) => machine.irqLine(COM1_IRQ, level),
    });
    const exitPort = new ExitPort(() => {});
    bus.register(uart);
    bus.register(exitPort);
    // The one-exit console: same batching as the UART's bytes (a message per line at most).
    bus.register(new HostConsole(memory, (bytes) => {
      for (const b of bytes) put(b);
    }));
    // virtio devices the image asked for: their own thread, eventfds to KVM (devices/virtio/).
    if (init.devices?.length && init.devicePort) virtio = new VirtioHost({ devices: init.devices, port: init.devicePort, input: init.input, handOverFirst: init.devicesFirst ?? false, ...(init.net ? { net: init.net } : {}), vcpuControl: init.control }, machine, ledger);

    control.running(sys.pthreadSelf());
    phase = "run";
    post({ type: "running" });
    if (control.stopRequested()) {
      exit = { status: 137, reason: "killed", detail: "stopped by the host before it started" };
    } else {
      exit = runLoop(machine.vcpu, bus, exitPort, {
        stopRequested: () => control.stopRequested(),
        consumeKick: () => void sys.sigtimedwaitNow(kickSet),
        service: () => {
          if (virtio) virtio.service(input); // the console device consumes the input
          else if (input.available > 0) {
            const room = UART_RX_CAPACITY - uart.pendingInput;
            if (room > 0) uart.feed(input.read(room));
          }
          if (outLen > 0 && Date.now() - firstUnflushed >= FLUSH_MS) flush();
        },
      }, stats, virtio?.mmio);
    }
  } catch (e) {
    exit = { status: FAILURE_STATUS, reason: "vmm-error", detail: e instanceof Error ? e.message : String(e) };
  } finally {
    control.finish();
  }
  const output = outLen ? out.slice(0, outLen) : undefined;
  out = new Uint8Array(0);
  virtio?.stop(ledger);
  ledger.release();
  post({ type: "exit", exit, phase, resources: ledger.summary(), stats, unknownPorts: [...bus.unknown], ...(output ? { output } : {}) });
}
