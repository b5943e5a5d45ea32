// virtio-net against the TypeScript test driver over fake guest RAM, with a queue as backend.
import { test } from "node:test";
import { strict as assert } from "node:assert";
import { TestDriver } from "../../testing/virtio-driver.ts";
import { MAX_FRAME, NET_F_MAC, NET_HDR_BYTES, NET_RX, NET_TX, VirtioNet, type NetBackend } from "./net.ts";
import { DESC, F, MMIO, STATUS, bit } from "./spec.ts";
import { VirtioMmioTransport } from "./transport.ts";

class QueueBackend implements NetBackend {
  sent: Uint8Array[] = [];
  inbox: Uint8Array[] = [];
  send(f: Uint8Array): void {
    this.sent.push(f.slice());
  }
  receive(): Uint8Array | null {
    return this.inbox.shift() ?? null;
  }
}

const MAC = new Uint8Array([0x02, 0x6b, 0x69, 0x6c, 0x01, 0x02]);
const FEATURES = bit(F.VERSION_1) | bit(NET_F_MAC);

function setup(): { d: TestDriver; t: VirtioMmioTransport; dev: VirtioNet; be: QueueBackend; irqs: () => number } {
  const ram = new Uint8Array(0x40000);
  const be = new QueueBackend();
  const dev = new VirtioNet({ mac: MAC, backend: be });
  let irqs = 0;
  const t = new VirtioMmioTransport(dev, ram, { interrupt: () => irqs++ });
  const d = new TestDriver(t, ram);
  assert.equal(d.init([16, 16], FEATURES) & STATUS.DRIVER_OK, STATUS.DRIVER_OK);
  return { d, t, dev, be, irqs: () => irqs };
}

const frame = (n: number, fill: number): Uint8Array => {
  const f = new Uint8Array(n).fill(fill);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0); // a broadcast Ethernet header
  return f;
};

function sendChain(d: TestDriver, slot: number, parts: Uint8Array[]): void {
  parts.forEach((p, i) => {
    const at = d.alloc(p.length, 1);
    d.ram.set(p, at);
    d.setDesc(NET_TX, slot + i, at, p.length, i < parts.length - 1 ? DESC.NEXT : 0, slot + i + 1);
  });
  d.offer(NET_TX, slot);
}

test("virtio-net: device id 1, offers MAC (and the transport's VERSION_1), the MAC reads from config in any access size", () => {
  const { d, t } = setup();
  assert.equal(d.r(MMIO.DEVICE_ID), 1);
  d.w(MMIO.DEVICE_FEATURES_SEL, 0);
  assert.ok(d.r(MMIO.DEVICE_FEATURES) & (1 << NET_F_MAC));
  assert.equal(t.read(MMIO.CONFIG, 4), 0x6c696b02);
  assert.equal(t.read(MMIO.CONFIG + 4, 2), 0x0201);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => t.read(MMIO.CONFIG + i, 1)), [...MAC]);
  assert.equal(t.read(MMIO.CONFIG + 6, 2), 0, "status needs VIRTIO_NET_F_STATUS: 0");
  t.write(MMIO.CONFIG, 1, 0x99);
  assert.equal(t.read(MMIO.CONFIG, 1), 0x02, "the MAC is read-only");
});

test("virtio-net TX: the header is stripped, split chains are joined, chains come back with len 0 and an interrupt", () => {
  const { d, dev, be, irqs } = setup();
  const f = frame(60, 0x11);
  sendChain(d, 0, [new Uint8Array(NET_HDR_BYTES), f]);
  const whole = new Uint8Array(NET_HDR_BYTES + 100);
  whole.set(frame(100, 0x22), NET_HDR_BYTES);
  sendChain(d, 4, [whole.subarray(0, 5), whole.subarray(5, 40), whole.subarray(40)]);
  assert.deepEqual(be.sent.map((s) => [s.length, s[20]]), [[60, 0x11], [100, 0x22]]);
  assert.deepEqual(d.takeUsed(NET_TX), [[0, 0], [4, 0]]);
  assert.ok(irqs() >= 2);
  assert.deepEqual([dev.counts.txFrames, dev.counts.txBytes, dev.counts.txDropped], [2, 160, 0]);
});

test("virtio-net TX: an oversized or runt frame is dropped and counted; the chain still comes back", () => {
  const { d, dev, be } = setup();
  sendChain(d, 0, [new Uint8Array(NET_HDR_BYTES), frame(MAX_FRAME + 1, 1)]);
  sendChain(d, 2, [new Uint8Array(NET_HDR_BYTES), new Uint8Array(13)]);
  sendChain(d, 4, [new Uint8Array(NET_HDR_BYTES), frame(MAX_FRAME, 2)]);
  assert.deepEqual(be.sent.map((s) => s.length), [MAX_FRAME]);
  assert.equal(dev.counts.txDropped, 2);
  assert.equal(d.takeUsed(NET_TX).length, 3);
});

test("virtio-net TX: a header with offload flags, a chain shorter than the header, a writable buffer: the device fails, the host does not", () => {
  for (const [build, re] of [
    [(d: TestDriver) => sendChain(d, 0, [new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), frame(60, 0)]), /flags 1 gso_type 0, but no offload/],
    [(d: TestDriver) => sendChain(d, 0, [new Uint8Array(11)]), /11 bytes, less than the 12-byte virtio_net_hdr/],
    [(d: TestDriver) => {
      d.setDesc(NET_TX, 0, d.alloc(100, 1), 100, DESC.WRITE);
      d.offer(NET_TX, 0);
    }, /transmitq chain 0 has a device-writable buffer/],
  ] as const) {
    const { d, t, be } = setup();
    assert.doesNotThrow(() => build(d));
    assert.match(t.error ?? "", re);
    assert.ok(d.r(MMIO.STATUS) & STATUS.DEVICE_NEEDS_RESET);
    assert.equal(be.sent.length, 0);
  }
});

test("virtio-net RX: frames wait in the backend until buffers are posted; each lands in one chain behind a zero header with num_buffers 1", () => {
  const { d, dev, be, t } = setup();
  be.inbox.push(frame(64, 0xa1), frame(1514, 0xa2), frame(42, 0xa3));
  assert.equal(dev.wantsFrames, false, "no buffers posted: the TAP is not polled");
  dev.poll();
  assert.equal(be.inbox.length, 3, "nothing taken without a buffer to put it in");
  const bufs = [0, 1].map((slot) => d.post(NET_RX, slot, NET_HDR_BYTES + 1514));
  assert.deepEqual(d.takeUsed(NET_RX), [[0, NET_HDR_BYTES + 64], [1, NET_HDR_BYTES + 1514]]);
  const hdr = d.ram.subarray(bufs[0]!, bufs[0]! + NET_HDR_BYTES);
  assert.deepEqual([...hdr], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
  assert.equal(d.ram[bufs[0]! + NET_HDR_BYTES + 20], 0xa1);
  assert.equal(d.ram[bufs[1]! + NET_HDR_BYTES + 1513], 0xa2);
  assert.equal(be.inbox.length, 1);
  // A buffer split in two (header, then frame), posted without a notification, picked up by poll().
  const h = d.alloc(NET_HDR_BYTES, 1);
  const body = d.alloc(1514, 1);
  d.setDesc(NET_RX, 5, h, NET_HDR_BYTES, DESC.WRITE | DESC.NEXT, 6);
  d.setDesc(NET_RX, 6, body, 1514, DESC.WRITE);
  d.offer(NET_RX, 5, false);
  assert.equal(dev.wantsFrames, true);
  dev.poll();
  assert.deepEqual(d.takeUsed(NET_RX), [[5, NET_HDR_BYTES + 42]]);
  assert.equal(d.ram[body + 30], 0xa3);
  assert.deepEqual([dev.counts.rxFrames, dev.counts.rxBytes, dev.counts.rxDropped], [3, 64 + 1514 + 42, 0]);
  assert.equal(t.error, undefined);
});

test("virtio-net RX: a frame too big for the posted chain is dropped and counted; the chain takes the next frame", () => {
  const { d, dev, be } = setup();
  be.inbox.push(frame(1000, 1), frame(100, 2));
  d.post(NET_RX, 0, NET_HDR_BYTES + 200);
  assert.deepEqual(d.takeUsed(NET_RX), [[0, NET_HDR_BYTES + 100]]);
  assert.equal(dev.counts.rxDropped, 1);
  assert.equal(dev.counts.rxFrames, 1);
});

test("virtio-net RX: a readable buffer on the receive queue fails the device", () => {
  const { d, t, be } = setup();
  be.inbox.push(frame(60, 1));
  d.setDesc(NET_RX, 0, d.alloc(100, 1), 100, 0);
  d.offer(NET_RX, 0);
  assert.match(t.error ?? "", /receiveq chain 0 has a device-readable buffer/);
});

test("virtio-net: counters move with the device state (thread hand-over), and a reset forgets the queues", () => {
  const { d, dev, be } = setup();
  sendChain(d, 0, [new Uint8Array(NET_HDR_BYTES), frame(60, 1)]);
  const other = new VirtioNet({ mac: MAC, backend: be });
  other.loadState(dev.saveState());
  assert.equal(other.counts.txFrames, 1);
  d.w(MMIO.STATUS, 0);
  be.inbox.push(frame(60, 1));
  dev.poll();
  assert.equal(be.inbox.length, 1, "a reset device takes no frames");
  assert.throws(() => new VirtioNet({ mac: new Uint8Array(5), backend: be }), /6 bytes, not 5/);
});
