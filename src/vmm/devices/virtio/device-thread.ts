// The virtio device thread of one VM. It starts while the guest boots; once it is in its loop
// it says so (DeviceChannel ready) and the vCPU thread, which served the devices itself until
// then, hands them over (a snapshot, and the MessagePort to the VM's handle) and registers the
// queues' ioeventfds with KVM. From then on the thread owns the devices and sleeps in poll(2):
// a guest's QueueNotify write signals an ioeventfd inside KVM (no exit to the VMM), interrupts
// go out on irqfds, register accesses come from the vCPU thread through the channel. Output goes
// to the VM's handle, one message per wake-up; the last message is "closed", with the report.
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { DeviceName } from "../../elf.ts";
import type { EventSys } from "../../eventfd.ts";
import { attachBackend, type NetAttach } from "../../net/attach.ts";
import { ByteRing } from "../../ring.ts";
import { DeviceChannel } from "./channel.ts";
import { VirtioDevices, type VirtioDeviceReport } from "./devices.ts";
import { MMIO } from "./spec.ts";
import type { TransportState } from "./transport.ts";

export type { VirtioDeviceReport } from "./devices.ts";

export interface DeviceThreadInit {
  role: "virtio-devices";
  ramAddress: bigint;
  ramSize: number;
  devices: DeviceName[];
  channel: SharedArrayBuffer;
  /** The VM's input ring: the console device is its consumer once it has taken over. */
  input: SharedArrayBuffer;
  doorbell: number;
  /** Per device, per queue: the ioeventfd, or -1 (notifications then come as register writes). */
  notify: number[][];
  /** Per device: the irqfd, or -1. */
  irq: number[];
  /** From the vCPU thread: the hand-over. */
  control: MessagePort;
  /** virtio-net's TAP and MAC: the thread polls the TAP fd while the guest has buffers posted. */
  net?: NetAttach;
  /** The vCPU's control block: once ready, the thread kicks the vCPU so it hands over. */
  vcpuControl?: SharedArrayBuffer;
}

export interface Handover {
  states: TransportState[];
  /** To the VM's handle (DevicePortMessage). */
  port: MessagePort;
}

export type DevicePortMessage = { type: "output"; bytes: Uint8Array } | { type: "closed"; devices: VirtioDeviceReport[] };

/** poll(2) wakes at least this often, so a stop is seen even if an fd was closed under it. */
const POLL_MS = 1000;
/**
 * Ready but not handed over yet: the vCPU thread hands over after a VM exit, and a guest polling
 * its rings may make none, so the thread kicks the vCPU (an exit) this often until it does.
 */
const HANDOVER_KICK_MS = 20;
/** While fault injection holds a frame back for reordering, a quiet spell this long releases it. */
const HOLD_MS = 2;

export function isDeviceThreadInit(d: unknown): d is DeviceThreadInit {
  return typeof d === "object" && d !== null && (d as { role?: unknown }).role === "virtio-devices";
}

export function runDeviceThread(init: DeviceThreadInit, ev: EventSys, view: (addr: bigint, len: number) => ArrayBuffer, kickVcpu: () => void = () => {}): void {
  const channel = new DeviceChannel(init.channel);
  const input = new ByteRing(init.input);
  let out: Uint8Array[] = [];
  let outBytes = 0;
  let devices: VirtioDevices | undefined;
  let port: MessagePort | undefined;
  const wake = new Map<number, [number, number]>(); // ioeventfd -> [device, queue]
  init.notify.forEach((qs, d) => qs.forEach((fd, q) => fd >= 0 && wake.set(fd, [d, q])));
  const fds = [init.doorbell, ...wake.keys()];
  const netFd = init.net?.fd ?? -1;
  const flush = (): void => {
    if (outBytes === 0 || !port) return;
    const bytes = new Uint8Array(outBytes);
    let at = 0;
    for (const b of out) {
      bytes.set(b, at);
      at += b.length;
    }
    out = [];
    outBytes = 0;
    port.postMessage({ type: "output", bytes } satisfies DevicePortMessage, [bytes.buffer]);
  };

  channel.markReady();
  while (!channel.stopRequested()) {
    // The TAP only while the guest can take frames: a full guest must not make this thread spin.
    const watch = netFd >= 0 && devices?.net?.wantsFrames ? [...fds, netFd] : fds;
    if (!devices) kickVcpu();
    const ready = ev.poll(watch, !devices ? HANDOVER_KICK_MS : devices.netHolding ? HOLD_MS : POLL_MS);
    for (const fd of ready) if (fd !== netFd) ev.drain(fd);
    if (!devices) {
      const m = receiveMessageOnPort(init.control)?.message as Handover | undefined;
      if (!m) continue; // not handed over yet: the vCPU thread still serves the devices
      devices = new VirtioDevices(init.devices, new Uint8Array(view(init.ramAddress, init.ramSize)), {
        output: (b) => {
          out.push(b);
          outBytes += b.length;
        },
        interrupt: (d) => {
          const fd = init.irq[d] ?? -1;
          if (fd >= 0) ev.signal(fd);
        },
        onError: () => {}, // kept in the transport; reported at the end
      }, init.net ? { mac: init.net.mac, backend: attachBackend(init.net) } : undefined);
      devices.restore(m.states);
      port = m.port;
    }
    for (const fd of ready) {
      const target = wake.get(fd);
      if (target) devices.transports[target[0]]?.notify(target[1]);
    }
    const req = channel.takeRequest();
    if (req) {
      const t = devices.transports[req.dev];
      let result = 0;
      if (t) {
        if (req.isWrite) t.write(req.offset, req.size, req.value);
        else result = t.read(req.offset, req.size);
        // A driver that just set DRIVER_OK may already have posted receive buffers.
        if (req.isWrite && req.offset === MMIO.STATUS) devices.feedInput(input);
      }
      channel.reply(result);
    }
    if (channel.takeInput()) devices.feedInput(input);
    devices.serviceNet(ready.length === 0);
    flush();
  }
  if (devices && port) {
    flush();
    port.postMessage({ type: "closed", devices: devices.report("device") } satisfies DevicePortMessage);
    port.close();
  }
  channel.markStopped(); // from here on, guest RAM may go
}
