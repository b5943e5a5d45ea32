// The vCPU thread's side of a VM's virtio devices: it makes the eventfds, registers them with
// KVM (KVM_IOEVENTFD on each queue's QueueNotify, KVM_IRQFD on each device's IRQ), starts the
// device thread (device-thread.ts) and forwards the MMIO exits of the device windows to it
// (register accesses: setup only). Without ioeventfd support (the fake machine of the tests)
// QueueNotify writes come the same way as register writes and everything still works.
import { Worker, type MessagePort } from "node:worker_threads";
import type { DeviceName } from "../../elf.ts";
import { loadEventSys, type EventSys } from "../../eventfd.ts";
import type { KvmMachine } from "../../kvm.ts";
import type { ResourceLedger } from "../../resources.ts";
import type { ByteRing } from "../../ring.ts";
import { workerScript } from "../../worker-script.ts";
import { MmioBus } from "../mmio-bus.ts";
import { DeviceChannel } from "./channel.ts";
import type { DeviceThreadInit } from "./device-thread.ts";
import { virtioSlots } from "./layout.ts";
import { MMIO, MMIO_WINDOW } from "./spec.ts";

/** Queues of each device model. */
const QUEUES: Record<DeviceName, number> = { "virtio-console": 2 };
/** A register access waits this long for the device thread (which may still be loading). */
const ACCESS_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface VirtioHostOptions {
  devices: DeviceName[];
  /** Where the device thread sends output and its final report (to the VM's handle). */
  port: MessagePort;
  /** The VM's input ring (the console device consumes it). */
  input: SharedArrayBuffer;
}

export class VirtioHost {
  readonly mmio = new MmioBus();
  /** Whether notifications and interrupts bypass the exit loop (KVM_IOEVENTFD, KVM_IRQFD). */
  readonly eventfds: boolean;
  private readonly ev: EventSys;
  private readonly channel: DeviceChannel;
  private readonly doorbell: number;
  private readonly worker: Worker;

  constructor(opts: VirtioHostOptions, machine: KvmMachine, ledger: ResourceLedger, ev: EventSys = loadEventSys()) {
    this.ev = ev;
    const slots = virtioSlots(opts.devices);
    const newFd = (label: string): number => {
      const fd = ev.eventfd();
      if (fd < 0) throw new Error(`eventfd for ${label} failed (errno ${ev.errno()})`);
      return ledger.fd(label, fd);
    };
    this.channel = DeviceChannel.create();
    this.doorbell = newFd("virtio doorbell");
    const { ioeventfd, irqfd } = machine;
    this.eventfds = ioeventfd !== undefined && irqfd !== undefined;
    const notify = slots.map((s) =>
      Array.from({ length: QUEUES[s.name] }, (_v, q) => {
        if (!ioeventfd) return -1;
        const fd = newFd(`${s.name} queue ${q} ioeventfd`);
        ioeventfd.call(machine, s.base + MMIO.QUEUE_NOTIFY, 4, q, fd);
        return fd;
      }),
    );
    const irq = slots.map((s) => {
      if (!irqfd) return -1;
      const fd = newFd(`${s.name} irqfd`);
      irqfd.call(machine, fd, s.irq);
      return fd;
    });
    const init: DeviceThreadInit = {
      role: "virtio-devices",
      ramAddress: machine.ramAddress,
      ramSize: machine.memory.length,
      devices: opts.devices,
      channel: this.channel.sab,
      input: opts.input,
      doorbell: this.doorbell,
      notify,
      irq,
      port: opts.port,
    };
    this.worker = new Worker(workerScript("src/vmm/devices/virtio/device-worker.ts", "virtio-devices.mjs"), {
      eval: true,
      workerData: init,
      transferList: [opts.port],
      execArgv: [],
    });
    slots.forEach((s, dev) =>
      this.mmio.register(s.base, MMIO_WINDOW, {
        name: s.name,
        read: (offset, size) => this.channel.access(ev, this.doorbell, { dev, offset, size, isWrite: false, value: 0 }, ACCESS_TIMEOUT_MS),
        write: (offset, size, value) => void this.channel.access(ev, this.doorbell, { dev, offset, size, isWrite: true, value }, ACCESS_TIMEOUT_MS),
      }),
    );
  }

  /** After each exit: tells the device thread when host input is waiting for the console. */
  service(input: ByteRing): void {
    if (input.available > 0) this.channel.inputArrived(this.ev, this.doorbell);
  }

  /**
   * Stops the device thread and waits until it no longer touches guest RAM. If it does not
   * stop, the RAM mapping is kept (unmapping it under a running thread would crash the
   * process) and the ledger says so.
   */
  stop(ledger: ResourceLedger): void {
    this.channel.requestStop(this.ev, this.doorbell);
    if (this.channel.waitStopped(STOP_TIMEOUT_MS)) return;
    void this.worker.terminate();
    ledger.keep((r) => r.kind === "mapping" && r.label === "guest RAM", `the virtio device thread did not stop within ${STOP_TIMEOUT_MS} ms`);
  }
}
