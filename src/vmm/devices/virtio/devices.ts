// A VM's set of virtio devices and their transports, built the same way on the vCPU thread
// (which serves them itself until the device thread is up) and on the device thread (which
// takes them over from a snapshot). The one place that maps a device name to its model.
import type { DeviceName } from "../../elf.ts";
import type { FaultCounts } from "../../net/faults.ts";
import { FaultyBackend } from "../../net/faults.ts";
import type { ByteRing } from "../../ring.ts";
import { VirtioConsole } from "./console.ts";
import type { VirtioDevice } from "./device.ts";
import { VirtioNet, type NetBackend, type NetCounts } from "./net.ts";
import { VirtioMmioTransport, type TransportState } from "./transport.ts";

export interface VirtioDeviceReport {
  name: DeviceName;
  /** Device status register at the end (DRIVER_OK = 4 once the driver got going). */
  status: number;
  /** Why the device failed (DEVICE_NEEDS_RESET), if it did. */
  error?: string;
  notifications: number;
  badAccesses: number;
  /** Transmit chains served (net: frames sent or dropped), bytes out and in. */
  txChains: number;
  txBytes: number;
  rxBytes: number;
  /** virtio-net: frame counters, and what fault injection did each way. */
  net?: NetCounts & { faults?: { rx: FaultCounts; tx: FaultCounts } };
  /** Which thread served the device at the end: "device" (the data path off the exit loop) or "vcpu". */
  servedBy: "device" | "vcpu";
}

export interface DeviceHooks {
  output(bytes: Uint8Array): void;
  /** Device `dev` raised its interrupt. */
  interrupt(dev: number): void;
  onError(message: string): void;
}

/** virtio-net's MAC and the backend its frames go through (made by each thread that serves it). */
export interface NetDeviceOptions {
  mac: Uint8Array;
  backend: NetBackend;
}

/** Queues of each device model. */
export const DEVICE_QUEUES: Record<DeviceName, number> = { "virtio-console": 2, "virtio-net": 2 };

export class VirtioDevices {
  readonly names: DeviceName[];
  readonly transports: VirtioMmioTransport[];
  private readonly consoles: VirtioConsole[] = [];
  /** The (first) network device, if the VM has one. */
  readonly net: VirtioNet | undefined;
  private readonly netBackend: NetBackend | undefined;

  constructor(names: DeviceName[], ram: Uint8Array, hooks: DeviceHooks, net?: NetDeviceOptions) {
    this.names = names;
    if (names.includes("virtio-net") && !net) throw new Error("the image asks for virtio-net, but the VM was given no network (VmOptions.net)");
    if (names.filter((n) => n === "virtio-net").length > 1) throw new Error("one virtio-net device per VM is supported");
    let netDev: VirtioNet | undefined;
    this.transports = names.map((name, i) => {
      let dev: VirtioDevice;
      if (name === "virtio-net") dev = netDev = new VirtioNet(net!);
      else {
        const con = new VirtioConsole({ output: (b) => hooks.output(b) });
        this.consoles.push(con);
        dev = con;
      }
      return new VirtioMmioTransport(dev, ram, { interrupt: () => hooks.interrupt(i), onError: (m) => hooks.onError(`${name}: ${m}`) });
    });
    this.net = netDev;
    this.netBackend = net?.backend;
  }

  /** Moves waiting host input into the (first) console. */
  feedInput(input: ByteRing): void {
    const con = this.consoles[0];
    if (!con || input.available === 0) return;
    const room = 4096 - con.pendingInput;
    if (room > 0) con.feed(input.read(room));
  }

  /**
   * Network work after a wake-up: frames the backend has go into posted chains; after a quiet
   * wake-up (`idle`), frames fault injection held back for reordering are released.
   */
  serviceNet(idle: boolean): void {
    if (!this.net) return;
    if (idle && this.netBackend instanceof FaultyBackend && this.netBackend.holding) this.netBackend.flush();
    this.net.poll();
  }

  /** Whether a reordered frame waits for release (the device thread then wakes up soon). */
  get netHolding(): boolean {
    return this.netBackend instanceof FaultyBackend && this.netBackend.holding;
  }

  snapshot(): TransportState[] {
    return this.transports.map((t) => t.snapshot());
  }

  restore(states: TransportState[]): void {
    states.forEach((s, i) => this.transports[i]?.restore(s));
  }

  report(servedBy: "device" | "vcpu"): VirtioDeviceReport[] {
    let con = 0;
    return this.transports.map((t, i) => {
      const base = { name: this.names[i]!, status: t.deviceStatus, ...(t.error !== undefined ? { error: t.error } : {}), notifications: t.notifications, badAccesses: t.badAccesses, servedBy };
      if (this.names[i] !== "virtio-net") return { ...base, ...this.consoles[con++]!.counts };
      const c = this.net!.counts;
      const faults = this.netBackend instanceof FaultyBackend ? { faults: { rx: { ...this.netBackend.rx.counts }, tx: { ...this.netBackend.tx.counts } } } : {};
      return { ...base, txChains: c.txFrames + c.txDropped, txBytes: c.txBytes, rxBytes: c.rxBytes, net: { ...c, ...faults } };
    });
  }
}
