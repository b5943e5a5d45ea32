// The virtio device thread of one VM: it owns every virtio device model and its transport,
// and sleeps in poll(2) on eventfds. Queue notifications arrive on ioeventfds straight from
// KVM (the guest's QueueNotify write never leaves the kernel), interrupts go out on irqfds,
// so the vCPU thread's exit loop sees none of the data path; only register accesses (setup)
// come from the vCPU thread, through the DeviceChannel. Output goes to the main thread on a
// MessagePort, one message per wake-up; the last message is "closed", with the report.
import type { MessagePort } from "node:worker_threads";
import type { DeviceName } from "../../elf.ts";
import type { EventSys } from "../../eventfd.ts";
import { ByteRing } from "../../ring.ts";
import { DeviceChannel } from "./channel.ts";
import { VirtioConsole } from "./console.ts";
import { MMIO } from "./spec.ts";
import { VirtioMmioTransport } from "./transport.ts";

export interface DeviceThreadInit {
  role: "virtio-devices";
  ramAddress: bigint;
  ramSize: number;
  devices: DeviceName[];
  channel: SharedArrayBuffer;
  /** The VM's input ring: the console device is its consumer. */
  input: SharedArrayBuffer;
  doorbell: number;
  /** Per device, per queue: the ioeventfd, or -1 (notifications then come as register writes). */
  notify: number[][];
  /** Per device: the irqfd, or -1. */
  irq: number[];
  port: MessagePort;
}

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
}

export type DevicePortMessage = { type: "output"; bytes: Uint8Array } | { type: "closed"; devices: VirtioDeviceReport[] };

export function isDeviceThreadInit(d: unknown): d is DeviceThreadInit {
  return typeof d === "object" && d !== null && (d as { role?: unknown }).role === "virtio-devices";
}

export function runDeviceThread(init: DeviceThreadInit, ev: EventSys, view: (addr: bigint, len: number) => ArrayBuffer): void {
  const channel = new DeviceChannel(init.channel);
  const input = new ByteRing(init.input);
  const ram = new Uint8Array(view(init.ramAddress, init.ramSize));
  let out: Uint8Array[] = [];
  let outBytes = 0;
  const consoles: VirtioConsole[] = [];
  const errors: string[] = [];
  const transports = init.devices.map((name, i) => {
    // The only device so far; net and blk plug in here with their own VirtioDevice.
    const dev = new VirtioConsole({
      output: (b) => {
        out.push(b);
        outBytes += b.length;
      },
    });
    consoles.push(dev);
    const irq = init.irq[i] ?? -1;
    return new VirtioMmioTransport(dev, ram, {
      interrupt: () => {
        if (irq >= 0) ev.signal(irq);
      },
      onError: (m) => errors.push(`${name}: ${m}`),
    });
  });
  const wake = new Map<number, [number, number]>(); // ioeventfd -> [device, queue]
  init.notify.forEach((qs, d) => qs.forEach((fd, q) => fd >= 0 && wake.set(fd, [d, q])));
  const fds = [init.doorbell, ...wake.keys()];
  const flush = (): void => {
    if (outBytes === 0) return;
    const bytes = new Uint8Array(outBytes);
    let at = 0;
    for (const b of out) {
      bytes.set(b, at);
      at += b.length;
    }
    out = [];
    outBytes = 0;
    init.port.postMessage({ type: "output", bytes } satisfies DevicePortMessage, [bytes.buffer]);
  };
  const feedInput = (): void => {
    const con = consoles[0];
    if (!con || input.available === 0) return;
    const room = 4096 - con.pendingInput;
    if (room > 0) con.feed(input.read(room));
  };

  for (;;) {
    const ready = ev.poll(fds, -1);
    for (const fd of ready) {
      ev.drain(fd);
      const target = wake.get(fd);
      if (target) transports[target[0]]?.notify(target[1]);
    }
    // The doorbell (or nothing: a spurious wake-up) - look at everything it may mean.
    const req = channel.takeRequest();
    if (req) {
      const t = transports[req.dev];
      let result = 0;
      if (t) {
        if (req.isWrite) t.write(req.offset, req.size, req.value);
        else result = t.read(req.offset, req.size);
        // A driver that just set DRIVER_OK may already have posted receive buffers.
        if (req.isWrite && req.offset === MMIO.STATUS) feedInput();
      }
      channel.reply(result);
    }
    if (channel.takeInput()) feedInput();
    flush();
    if (channel.stopRequested()) break;
  }
  flush();
  const devices: VirtioDeviceReport[] = transports.map((t, i) => ({
    name: init.devices[i]!,
    status: t.deviceStatus,
    ...(t.error !== undefined ? { error: t.error } : {}),
    notifications: t.notifications,
    badAccesses: t.badAccesses,
    ...consoles[i]!.counts,
  }));
  init.port.postMessage({ type: "closed", devices } satisfies DevicePortMessage);
  init.port.close();
  channel.markStopped(); // from here on, guest RAM may go
}
