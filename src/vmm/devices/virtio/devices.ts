// A VM's set of virtio devices and their transports, built the same way on the vCPU thread
// (which serves them itself until the device thread is up) and on the device thread (which
// takes them over from a snapshot). The one place that maps a device name to its model.
import type { DeviceName } from "../../elf.ts";
import type { ByteRing } from "../../ring.ts";
import { VirtioConsole } from "./console.ts";
import { VirtioMmioTransport, type TransportState } from "./transport.ts";

export interface VirtioDeviceReport {
  name: DeviceName;
  /** Device status register at the end (DRIVER_OK = 4 once the driver got going). */
  status: number;
  /** Why the device failed (DEVICE_NEEDS_RESET), if it did. */
  error?: string;
  notifications: number;
  badAccesses: number;
  txChains: number;
  txBytes: number;
  rxBytes: number;
  /** Which thread served the device at the end: "device" (the data path off the exit loop) or "vcpu". */
  servedBy: "device" | "vcpu";
}

export interface DeviceHooks {
  output(bytes: Uint8Array): void;
  /** Device `dev` raised its interrupt. */
  interrupt(dev: number): void;
  onError(message: string): void;
}

/** Queues of each device model. */
export const DEVICE_QUEUES: Record<DeviceName, number> = { "virtio-console": 2, "virtio-net": 2 };

export class VirtioDevices {
  readonly names: DeviceName[];
  readonly transports: VirtioMmioTransport[];
  private readonly consoles: VirtioConsole[] = [];

  constructor(names: DeviceName[], ram: Uint8Array, hooks: DeviceHooks) {
    this.names = names;
    this.transports = names.map((name, i) => {
      // The only device so far; net and blk plug in here with their own VirtioDevice.
      const dev = new VirtioConsole({ output: (b) => hooks.output(b) });
      this.consoles.push(dev);
      return new VirtioMmioTransport(dev, ram, { interrupt: () => hooks.interrupt(i), onError: (m) => hooks.onError(`${name}: ${m}`) });
    });
  }

  /** Moves waiting host input into the (first) console. */
  feedInput(input: ByteRing): void {
    const con = this.consoles[0];
    if (!con || input.available === 0) return;
    const room = 4096 - con.pendingInput;
    if (room > 0) con.feed(input.read(room));
  }

  snapshot(): TransportState[] {
    return this.transports.map((t) => t.snapshot());
  }

  restore(states: TransportState[]): void {
    states.forEach((s, i) => this.transports[i]?.restore(s));
  }

  report(servedBy: "device" | "vcpu"): VirtioDeviceReport[] {
    return this.transports.map((t, i) => ({
      name: this.names[i]!,
      status: t.deviceStatus,
      ...(t.error !== undefined ? { error: t.error } : {}),
      notifications: t.notifications,
      badAccesses: t.badAccesses,
      ...this.consoles[i]!.counts,
      servedBy,
    }));
  }
}
