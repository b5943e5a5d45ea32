// The vCPU thread's side of a VM's virtio devices. It makes the eventfds and starts the device
// thread (device-thread.ts), which takes a while to load; meanwhile it serves the devices
// itself, inline on the MMIO exits (a QueueNotify is then an exit, handled at once), so the
// guest never waits for that thread to load. Once the thread is ready (checked after each
// exit) it hands the devices over - a snapshot of every register and ring position, and the
// port to the VM's handle - and registers each queue's QueueNotify with KVM_IOEVENTFD: from
// then on notifications never leave KVM, and register accesses (setup only) are forwarded to
// the device thread. Interrupts go through KVM_IRQFD from whichever thread serves the device.
// Without ioeventfd support (the fake machine of the tests) the hand-over still happens and
// QueueNotify writes are forwarded like register writes.
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import type { DeviceName } from "../../elf.ts";
import { loadEventSys, type EventSys } from "../../eventfd.ts";
import { attachBackend, type NetAttach } from "../../net/attach.ts";
import type { KvmMachine } from "../../kvm.ts";
import type { ResourceLedger } from "../../resources.ts";
import type { ByteRing } from "../../ring.ts";
import { workerScript } from "../../worker-script.ts";
import { MmioBus } from "../mmio-bus.ts";
import { DeviceChannel } from "./channel.ts";
import type { DevicePortMessage, DeviceThreadInit, Handover } from "./device-thread.ts";
import { DEVICE_QUEUES, VirtioDevices } from "./devices.ts";
import { virtioSlots, type VirtioSlot } from "./layout.ts";
import { MMIO, MMIO_WINDOW } from "./spec.ts";

/** A forwarded register access waits this long for the device thread. */
const ACCESS_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface VirtioHostOptions {
  devices: DeviceName[];
  /** To the VM's handle: output, then the final report (DevicePortMessage). */
  port: MessagePort;
  /** The VM's input ring (the console device consumes it). */
  input: SharedArrayBuffer;
  /** Wait for the device thread and hand over before the guest runs (tests of the data path). */
  handOverFirst?: boolean;
  /** virtio-net's TAP and MAC (the runner owns the fd). */
  net?: NetAttach;
  /** The vCPU's control block, so the device thread can kick it into handing over. */
  vcpuControl?: SharedArrayBuffer;
}

export class VirtioHost {
  readonly mmio = new MmioBus();
  private readonly ev: EventSys;
  private readonly machine: KvmMachine;
  private readonly slots: VirtioSlot[];
  private readonly channel = DeviceChannel.create();
  private readonly doorbell: number;
  private readonly notify: number[][];
  private readonly worker: Worker;
  private readonly control: MessagePort;
  private readonly port: MessagePort;
  /** Served here until the hand-over; undefined after it. */
  private local: VirtioDevices | undefined;

  constructor(opts: VirtioHostOptions, machine: KvmMachine, ledger: ResourceLedger, ev: EventSys = loadEventSys()) {
    this.ev = ev;
    this.machine = machine;
    this.port = opts.port;
    this.slots = virtioSlots(opts.devices);
    const newFd = (label: string): number => {
      const fd = ev.eventfd();
      if (fd < 0) throw new Error(`eventfd for ${label} failed (errno ${ev.errno()})`);
      return ledger.fd(label, fd);
    };
    this.doorbell = newFd("virtio doorbell");
    const eventfds = machine.ioeventfd !== undefined && machine.irqfd !== undefined;
    this.notify = this.slots.map((s) => Array.from({ length: DEVICE_QUEUES[s.name] }, (_v, q) => (eventfds ? newFd(`${s.name} queue ${q} ioeventfd`) : -1)));
    const irq = this.slots.map((s) => {
      if (!eventfds) return -1;
      const fd = newFd(`${s.name} irqfd`);
      machine.irqfd!(fd, s.irq);
      return fd;
    });
    this.local = new VirtioDevices(opts.devices, machine.memory, {
      output: (bytes) => this.port.postMessage({ type: "output", bytes } satisfies DevicePortMessage),
      interrupt: (d) => {
        const fd = irq[d] ?? -1;
        if (fd >= 0) ev.signal(fd);
      },
      onError: () => {},
    }, opts.net ? { mac: opts.net.mac, backend: attachBackend(opts.net) } : undefined);
    const { port1, port2 } = new MessageChannel();
    this.control = port1;
    const init: DeviceThreadInit = {
      role: "virtio-devices",
      ramAddress: machine.ramAddress,
      ramSize: machine.memory.length,
      devices: opts.devices,
      channel: this.channel.sab,
      input: opts.input,
      doorbell: this.doorbell,
      notify: this.notify,
      irq,
      control: port2,
      ...(opts.net ? { net: opts.net } : {}),
      ...(opts.vcpuControl ? { vcpuControl: opts.vcpuControl } : {}),
    };
    this.worker = new Worker(workerScript("src/vmm/devices/virtio/device-worker.ts", "virtio-devices.mjs"), {
      eval: true,
      workerData: init,
      transferList: [port2],
      execArgv: [],
    });
    this.worker.unref(); // it ends when told to stop; it must not hold the vCPU thread open
    this.slots.forEach((s, dev) =>
      this.mmio.register(s.base, MMIO_WINDOW, {
        name: s.name,
        read: (offset, size) =>
          this.local ? this.local.transports[dev]!.read(offset, size) : this.channel.access(ev, this.doorbell, { dev, offset, size, isWrite: false, value: 0 }, ACCESS_TIMEOUT_MS),
        write: (offset, size, value) => {
          if (this.local) this.local.transports[dev]!.write(offset, size, value);
          else this.channel.access(ev, this.doorbell, { dev, offset, size, isWrite: true, value }, ACCESS_TIMEOUT_MS);
        },
      }),
    );
    if (opts.handOverFirst) {
      if (!this.channel.waitReady(ACCESS_TIMEOUT_MS)) throw new Error(`the virtio device thread was not ready within ${ACCESS_TIMEOUT_MS} ms`);
      this.handOver();
    }
  }

  /** Whether the device thread serves the devices (the data path is off the exit loop). */
  get handedOver(): boolean {
    return this.local === undefined;
  }

  /** After each exit: input for the console, and the hand-over once the device thread is ready. */
  service(input: ByteRing): void {
    if (this.local) {
      this.local.feedInput(input);
      this.local.serviceNet(false);
      if (this.channel.isReady()) this.handOver();
    } else if (input.available > 0) this.channel.inputArrived(this.ev, this.doorbell);
  }

  private handOver(): void {
    const local = this.local!;
    this.control.postMessage({ states: local.snapshot(), port: this.port } satisfies Handover, [this.port]);
    this.control.close();
    // The guest is not running (we are between exits): from its next QueueNotify on, KVM signals.
    if (this.machine.ioeventfd)
      this.slots.forEach((s, d) => this.notify[d]!.forEach((fd, q) => this.machine.ioeventfd!(s.base + MMIO.QUEUE_NOTIFY, 4, q, fd)));
    this.local = undefined;
    this.ev.signal(this.doorbell);
  }

  /**
   * Stops the device thread. If it took the devices over, waits until it no longer touches
   * guest RAM (if it does not stop, the RAM mapping is kept - unmapping it under a running
   * thread would crash the process - and the ledger says so); if not, reports for it.
   */
  stop(ledger: ResourceLedger): void {
    this.channel.requestStop(this.ev, this.doorbell);
    if (this.local) {
      this.port.postMessage({ type: "closed", devices: this.local.report("vcpu") } satisfies DevicePortMessage);
      this.port.close();
      this.control.close();
      return; // it never had the devices, so it never touches guest RAM
    }
    if (this.channel.waitStopped(STOP_TIMEOUT_MS)) return;
    void this.worker.terminate();
    ledger.keep((r) => r.kind === "mapping" && r.label === "guest RAM", `the virtio device thread did not stop within ${STOP_TIMEOUT_MS} ms`);
  }
}
