// The pieces around the device thread that need no thread: where devices go and how they are
// announced, the MMIO bus, and the register channel's protocol (both ends in one thread).
import { test } from "node:test";
import { strict as assert } from "node:assert";
import { MmioBus } from "../mmio-bus.ts";
import { DeviceChannel } from "./channel.ts";
import { announceVirtio, virtioSlots } from "./layout.ts";
import type { EventSys } from "../../eventfd.ts";

test("devices get 512-byte windows from 0xd0000000 and IRQs from 5, announced at the end of the command line", () => {
  const slots = virtioSlots(["virtio-console", "virtio-console"]);
  assert.deepEqual(slots.map((s) => [s.base, s.irq]), [[0xd0000000, 5], [0xd0000200, 6]]);
  assert.equal(announceVirtio("a=1 -- x", slots), "a=1 -- x virtio_mmio.device=512@0xd0000000:5 virtio_mmio.device=512@0xd0000200:6");
  assert.equal(announceVirtio("", slots.slice(0, 1)), "virtio_mmio.device=512@0xd0000000:5");
});

test("MMIO bus: windows, 8-byte accesses split low half first, unclaimed reads all ones", () => {
  const bus = new MmioBus();
  const log: string[] = [];
  bus.register(0x1000, 0x200, {
    name: "dev",
    read: (off, size) => (log.push(`r${off}/${size}`), 0x11223344),
    write: (off, size, v) => void log.push(`w${off}/${size}=${v.toString(16)}`),
  });
  assert.throws(() => bus.register(0x11f0, 0x20, { name: "other", read: () => 0, write: () => {} }), /overlaps dev/);
  const d = new Uint8Array(8);
  bus.serve(0x1004, false, d.subarray(0, 4));
  assert.deepEqual([...d.subarray(0, 4)], [0x44, 0x33, 0x22, 0x11]);
  new DataView(d.buffer).setBigUint64(0, 0x0000000200000001n, true);
  bus.serve(0x1010, true, d);
  assert.deepEqual(log, ["r4/4", "w16/4=1", "w20/4=2"]);
  bus.serve(0x1001, false, d.subarray(0, 1));
  assert.equal(log.at(-1), "r1/1");
  bus.serve(0x5000, false, d.subarray(0, 2));
  assert.deepEqual([...d.subarray(0, 2)], [0xff, 0xff]);
  assert.equal(bus.unclaimed, 1);
  assert.throws(() => bus.serve(0x1000, false, d.subarray(0, 3)), /MMIO access of 3 bytes/);
});

test("register channel: a request is answered; no answer is a clear error, not a hang", () => {
  const ch = DeviceChannel.create();
  const device = new DeviceChannel(ch.sab);
  const signals: number[] = [];
  // The "doorbell" runs the device side at once, as the device thread would on its wake-up.
  const ev = { signal: (fd: number) => {
    signals.push(fd);
    const req = device.takeRequest();
    if (req) device.reply(req.isWrite ? 0 : req.offset + req.size);
  } } as unknown as EventSys;
  assert.equal(ch.access(ev, 7, { dev: 0, offset: 0x70, size: 4, isWrite: false, value: 0 }, 1000), 0x74);
  assert.deepEqual(signals, [7]);
  const deaf = { signal: () => {} } as unknown as EventSys;
  assert.throws(() => ch.access(deaf, 7, { dev: 0, offset: 0, size: 4, isWrite: false, value: 0 }, 50), /did not answer a register access within 50 ms/);
  assert.equal(device.takeInput(), false);
  ch.inputArrived(ev, 7);
  ch.inputArrived(ev, 7);
  assert.equal(signals.length, 2, "input rings the doorbell once until the device thread looks");
  assert.equal(device.takeInput(), true);
  assert.equal(ch.waitStopped(10), false);
  device.markStopped();
  assert.equal(ch.waitStopped(10), true);
});
