// Everything the vCPU worker does, as a function of its inputs (the thread entry is
// vcpu-worker.ts): create the machine, load the image, wire the devices, run the loop, and
// release every fd and mapping before reporting the exit.
import { pvhRegs, pvhSregs } from "./boot-state.ts";
import { VcpuControl, KICK_SIGNAL } from "./control.ts";
import { IoBus } from "./devices/io-bus.ts";
import { ExitPort } from "./devices/exit-port.ts";
import { COM1_IRQ, Uart16550 } from "./devices/uart16550.ts";
import { VirtioHost } from "./devices/virtio/host.ts";
import { GuestMemory } from "./guest-memory.ts";
import type { KvmMachine } from "./kvm.ts";
import { loadImage } from "./loader.ts";
import type { WorkerInit, WorkerMessage } from "./messages.ts";
import { ResourceLedger } from "./resources.ts";
import { ByteRing } from "./ring.ts";
import { FAILURE_STATUS, runLoop, type LoopStats, type VmExit } from "./run-loop.ts";
import { SIGSET_BYTES, SIG_BLOCK, sigset, type Sys } from "./sys.ts";

export type MachineFactory = (sys: Sys, ledger: ResourceLedger, memory: number) => KvmMachine;

/** Output is batched into messages: at a newline, at 4 KiB, after 20 ms, and at the end. */
const FLUSH_BYTES = 4096;
const FLUSH_MS = 20;
const UART_RX_CAPACITY = 4096;

export function runVcpuWorker(init: WorkerInit, post: (m: WorkerMessage) => void, sys: Sys, createMachine: MachineFactory): void {
  const control = new VcpuControl(init.control);
  const input = new ByteRing(init.input);
  const ledger = new ResourceLedger(sys);
  const stats: LoopStats = { exits: 0, ioExits: 0, mmioExits: 0, kicks: 0 };
  const bus = new IoBus();
  let out = new Uint8Array(FLUSH_BYTES);
  let outLen = 0;
  let firstUnflushed = 0;
  const flush = (): void => {
    if (outLen === 0) return;
    post({ type: "output", bytes: out.slice(0, outLen) });
    outLen = 0;
    control.setOutputPending(false);
  };
  let phase: "setup" | "run" = "setup";
  let exit: VmExit;
  let virtio: VirtioHost | undefined;
  try {
    // The kick signal stays blocked in this thread; only KVM_RUN's own mask lets it in.
    const kickSet = sigset(KICK_SIGNAL);
    const oldMask = new Uint8Array(SIGSET_BYTES);
    if (sys.pthreadSigmask(SIG_BLOCK, kickSet, oldMask) !== 0) throw new Error("pthread_sigmask failed");
    const machine = createMachine(sys, ledger, init.memory);
    const loaded = loadImage(init.image, init.file, new GuestMemory(machine.memory), init.cmdline, init.initrd);
    machine.vcpu.setSregs(pvhSregs(machine.vcpu.getSregs()));
    machine.vcpu.setRegs(pvhRegs(loaded.entry, loaded.startInfo));
    const runMask = oldMask.slice();
    runMask[(KICK_SIGNAL - 1) >> 3]! &= ~(1 << ((KICK_SIGNAL - 1) & 7));
    machine.vcpu.setSignalMask(runMask);

    const uart = new Uart16550({
      rxCapacity: UART_RX_CAPACITY,
      output: (b) => {
        if (outLen === 0) {
          firstUnflushed = Date.now();
          control.setOutputPending(true);
        }
        out[outLen++] = b;
        if (b === 0x0a || outLen === FLUSH_BYTES) flush();
      },
      irq: (level) => machine.irqLine(COM1_IRQ, level),
    });
    const exitPort = new ExitPort(() => {});
    bus.register(uart);
    bus.register(exitPort);
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
  flush();
  out = new Uint8Array(0);
  virtio?.stop(ledger);
  ledger.release();
  post({ type: "exit", exit, phase, resources: ledger.summary(), stats, unknownPorts: [...bus.unknown] });
}
