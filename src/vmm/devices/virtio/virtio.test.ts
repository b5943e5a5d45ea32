import { test } from "node:test";
import { strict as assert } from "node:assert";
import { TestDriver } from "../../testing/virtio-driver.ts";
import { CONSOLE_RX, CONSOLE_TX, VirtioConsole } from "./console.ts";
import { QueueError, SplitQueue } from "./queue.ts";
import { DESC, F, INT, MMIO, MMIO_MAGIC, STATUS, bit } from "./spec.ts";
import { VirtioMmioTransport } from "./transport.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function consoleSetup(ramBytes = 1 << 20) {
  const ram = new Uint8Array(ramBytes);
  const out: string[] = [];
  const errors: string[] = [];
  let irqs = 0;
  const dev = new VirtioConsole({ output: (b) => out.push(dec(b)) });
  const t = new VirtioMmioTransport(dev, ram, { interrupt: () => irqs++, onError: (m) => errors.push(m) });
  const d = new TestDriver(t, ram);
  return { ram, out, errors, dev, t, d, irqs: () => irqs };
}

test("identification registers: magic, version 2, console id, features with VERSION_1", () => {
  const { d } = consoleSetup();
  assert.equal(d.r(MMIO.MAGIC), MMIO_MAGIC);
  assert.equal(d.r(MMIO.VERSION), 2);
  assert.equal(d.r(MMIO.DEVICE_ID), 3);
  d.w(MMIO.DEVICE_FEATURES_SEL, 1);
  assert.equal(d.r(MMIO.DEVICE_FEATURES) & 1, 1, "VERSION_1 is bit 32");
  d.w(MMIO.DEVICE_FEATURES_SEL, 0);
  assert.ok(d.r(MMIO.DEVICE_FEATURES) & (1 << F.INDIRECT_DESC));
  d.w(MMIO.QUEUE_SEL, 0);
  assert.equal(d.r(MMIO.QUEUE_NUM_MAX), 256);
  d.w(MMIO.QUEUE_SEL, 2);
  assert.equal(d.r(MMIO.QUEUE_NUM_MAX), 0, "no third queue without MULTIPORT");
});

test("console output: one chain of several buffers, one notification, used returned, interrupt", () => {
  const { d, out, irqs } = consoleSetup();
  assert.equal(d.init([8, 8]) & STATUS.DRIVER_OK, STATUS.DRIVER_OK);
  const a = d.alloc(6, 1);
  d.ram.set(enc("hello "), a);
  const b = d.alloc(6, 1);
  d.ram.set(enc("world\n"), b);
  d.setDesc(CONSOLE_TX, 3, a, 6, DESC.NEXT, 5);
  d.setDesc(CONSOLE_TX, 5, b, 6, 0);
  d.offer(CONSOLE_TX, 3);
  assert.deepEqual(out, ["hello world\n"]);
  assert.deepEqual(d.takeUsed(CONSOLE_TX), [[3, 0]]);
  assert.equal(d.view.getUint16(d.queues[CONSOLE_TX]!.used, true), 0, "notifications wanted again once the device is idle");
  assert.equal(irqs(), 1);
  assert.equal(d.r(MMIO.INTERRUPT_STATUS), INT.USED_BUFFER);
  d.w(MMIO.INTERRUPT_ACK, INT.USED_BUFFER);
  assert.equal(d.r(MMIO.INTERRUPT_STATUS), 0);
});

test("console input: held until a receive buffer is posted, split across buffers", () => {
  const { d, dev } = consoleSetup();
  d.init([8, 8]);
  assert.equal(dev.feed(enc("abcdef")), 6);
  const at = d.post(CONSOLE_RX, 0, 4);
  assert.deepEqual(d.takeUsed(CONSOLE_RX), [[0, 4]]);
  assert.equal(dec(d.ram.subarray(at, at + 4)), "abcd");
  const at2 = d.post(CONSOLE_RX, 1, 16);
  assert.deepEqual(d.takeUsed(CONSOLE_RX), [[1, 2]]);
  assert.equal(dec(d.ram.subarray(at2, at2 + 2)), "ef");
  d.post(CONSOLE_RX, 2, 16);
  assert.deepEqual(d.takeUsed(CONSOLE_RX), [], "no input: the buffer stays with the device");
  dev.feed(enc("z"));
  assert.deepEqual(d.takeUsed(CONSOLE_RX), [[2, 1]]);
});

test("indirect descriptors: followed when negotiated, a failure when not", () => {
  for (const negotiated of [true, false]) {
    const { d, out, t, errors } = consoleSetup();
    d.init([8, 8], bit(F.VERSION_1) | (negotiated ? bit(F.INDIRECT_DESC) : 0n));
    const table = d.alloc(32, 16);
    const s1 = d.alloc(3, 1);
    d.ram.set(enc("ab"), s1);
    const s2 = d.alloc(3, 1);
    d.ram.set(enc("c\n"), s2);
    const v = d.view;
    v.setBigUint64(table, BigInt(s1), true);
    v.setUint32(table + 8, 2, true);
    v.setUint16(table + 12, DESC.NEXT, true);
    v.setUint16(table + 14, 1, true);
    v.setBigUint64(table + 16, BigInt(s2), true);
    v.setUint32(table + 24, 2, true);
    d.setDesc(CONSOLE_TX, 0, table, 32, DESC.INDIRECT | DESC.WRITE); // WRITE is ignored on the table itself
    d.offer(CONSOLE_TX, 0);
    if (negotiated) {
      assert.deepEqual(out, ["abc\n"]);
      assert.equal(t.error, undefined);
    } else {
      assert.deepEqual(out, []);
      assert.match(t.error!, /VIRTIO_F_INDIRECT_DESC was not negotiated/);
      assert.ok(d.r(MMIO.STATUS) & STATUS.DEVICE_NEEDS_RESET);
      assert.equal(d.r(MMIO.INTERRUPT_STATUS) & INT.CONFIG_CHANGE, INT.CONFIG_CHANGE);
      assert.equal(errors.length, 1);
    }
  }
});

test("a malformed chain sets DEVICE_NEEDS_RESET; the device ignores notifications until reset, then works", () => {
  const { d, out, t } = consoleSetup();
  d.init([4, 4]);
  d.setDesc(CONSOLE_TX, 0, 0x100, 1, DESC.NEXT, 1);
  d.setDesc(CONSOLE_TX, 1, 0x100, 1, DESC.NEXT, 0); // 0 -> 1 -> 0: a loop
  d.offer(CONSOLE_TX, 0);
  assert.match(t.error!, /longer than the queue size \(4\): a loop/);
  d.send(CONSOLE_TX, 2, enc("lost"));
  assert.deepEqual(out, []);
  d.init([4, 4]);
  assert.equal(t.error, undefined);
  assert.equal(d.r(MMIO.STATUS) & STATUS.DEVICE_NEEDS_RESET, 0);
  d.send(CONSOLE_TX, 0, enc("ok"));
  assert.deepEqual(out, ["ok"]);
});

test("features: the driver cannot accept what was not offered, nor go without VERSION_1", () => {
  const { d } = consoleSetup();
  assert.equal(d.init([4, 4], bit(F.VERSION_1) | bit(F.RING_PACKED)) & STATUS.FEATURES_OK, 0);
  assert.equal(d.init([4, 4], 0n) & STATUS.FEATURES_OK, 0);
  assert.equal(d.init([4, 4]) & STATUS.DRIVER_OK, STATUS.DRIVER_OK);
});

test("queue setup refused: size not a power of 2, above the maximum, misaligned or outside RAM", () => {
  const cases: Array<[(d: TestDriver) => void, RegExp]> = [
    [(d) => d.w(MMIO.QUEUE_NUM, 3), /not a power of 2/],
    [(d) => d.w(MMIO.QUEUE_NUM, 512), /outside 1\.\.256/],
    [(d) => d.w(MMIO.QUEUE_DESC_LOW, 0x10008), /descriptor table at 0x10008 is not 16-byte aligned/],
    [(d) => d.w(MMIO.QUEUE_DEVICE_HIGH, 1), /used ring at 0x1.* is outside/],
    [(d) => d.w(MMIO.QUEUE_DRIVER_LOW, 0xffffc), /available ring at 0xffffc .* outside/],
  ];
  for (const [spoil, re] of cases) {
    const { d, t } = consoleSetup();
    d.w(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER);
    d.w(MMIO.DRIVER_FEATURES_SEL, 1);
    d.w(MMIO.DRIVER_FEATURES, 1);
    d.w(MMIO.STATUS, STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK);
    d.w(MMIO.QUEUE_SEL, 0);
    d.w(MMIO.QUEUE_NUM, 4);
    d.w(MMIO.QUEUE_DESC_LOW, 0x10000);
    d.w(MMIO.QUEUE_DRIVER_LOW, 0x10100);
    d.w(MMIO.QUEUE_DEVICE_LOW, 0x10200);
    spoil(d);
    d.w(MMIO.QUEUE_READY, 1);
    assert.match(t.error ?? "", re);
    assert.equal(d.r(MMIO.QUEUE_READY), 0);
  }
});

test("register accesses that are not 32-bit are ignored and counted; config space reads 0", () => {
  const { t } = consoleSetup();
  assert.equal(t.read(MMIO.MAGIC, 1), 0);
  t.write(MMIO.STATUS, 2, 1);
  assert.equal(t.read(MMIO.STATUS, 4), 0);
  assert.equal(t.read(MMIO.MAGIC + 2, 4), 0);
  assert.equal(t.badAccesses, 3);
  assert.equal(t.read(MMIO.CONFIG + 4, 4), 0);
  assert.equal(t.read(0x1fe, 4), 0, "past the window");
});

function queueOn(ram: Uint8Array, size: number, indirect = false) {
  const v = new DataView(ram.buffer);
  const q = new SplitQueue(ram, { size, desc: 0x1000, avail: 0x2000, used: 0x3000 }, { indirect });
  const desc = (i: number, addr: number, len: number, flags: number, next = 0) => {
    v.setBigUint64(0x1000 + 16 * i, BigInt(addr), true);
    v.setUint32(0x1008 + 16 * i, len, true);
    v.setUint16(0x100c + 16 * i, flags, true);
    v.setUint16(0x100e + 16 * i, next, true);
  };
  const avail = (idx: number, ...heads: number[]) => {
    heads.forEach((h, k) => v.setUint16(0x2004 + 2 * ((idx - heads.length + k) & (size - 1)), h, true));
    v.setUint16(0x2002, idx & 0xffff, true);
  };
  return { q, v, desc, avail };
}

test("split queue rules, each with its message", () => {
  const ram = new Uint8Array(0x10000);
  const cases: Array<[(s: ReturnType<typeof queueOn>) => void, RegExp]> = [
    [(s) => s.avail(9, 0), /avail\.idx 9 is 9 entries ahead .* more than the queue size 8/],
    [(s) => s.avail(1, 8), /avail ring entry 8 is not a descriptor/],
    [(s) => (s.desc(0, 0xff00, 0x200, 0), s.avail(1, 0)), /buffer of descriptor 0 \(chain 0\) at 0xff00 \(\+512\) is outside/],
    [(s) => (s.desc(0, 0x100, 1, DESC.NEXT, 9), s.avail(1, 0)), /links to 9, past the queue/],
    [(s) => (s.desc(0, 0x100, 1, DESC.WRITE | DESC.NEXT, 1), s.desc(1, 0x100, 1, 0), s.avail(1, 0)), /readable buffer after a device-writable/],
    [(s) => (s.desc(0, 0x100, 1, DESC.NEXT, 0), s.avail(1, 0)), /longer than the queue size/],
    [(s) => (s.v.setUint32(0x1004, 1, true), s.avail(1, 0)), /outside the 65536-byte guest RAM/],
  ];
  for (const [spoil, re] of cases) {
    ram.fill(0);
    const s = queueOn(ram, 8);
    spoil(s);
    assert.throws(() => s.q.pop(), (e: unknown) => e instanceof QueueError && re.test(e.message));
  }
});

test("split queue: indices wrap at 2^16, zero-length buffers are fine", () => {
  const ram = new Uint8Array(0x10000);
  const s = queueOn(ram, 4);
  s.desc(0, 0x100, 0, 0);
  let got = 0;
  for (let i = 1; i <= 70000; i++) {
    s.avail(i, 0);
    const c = s.q.pop();
    assert.ok(c);
    s.q.pushUsed(c, 0);
    got++;
    assert.equal(s.q.pop(), null);
  }
  assert.equal(got, 70000);
  assert.equal(s.v.getUint16(0x3002, true), 70000 & 0xffff);
});

test("indirect table rules", () => {
  const ram = new Uint8Array(0x10000);
  const cases: Array<[(s: ReturnType<typeof queueOn>) => void, RegExp]> = [
    [(s) => (s.desc(0, 0x4000, 24, DESC.INDIRECT), s.avail(1, 0)), /length 24, not a multiple of 16/],
    [(s) => (s.desc(0, 0x4000, 0, DESC.INDIRECT), s.avail(1, 0)), /length 0/],
    [(s) => (s.desc(0, 0x4000, 16, DESC.INDIRECT | DESC.NEXT, 1), s.avail(1, 0)), /both INDIRECT and NEXT/],
    [(s) => (s.desc(0, 0x4008, 16, DESC.INDIRECT), s.avail(1, 0)), /not 16-byte aligned/],
    [(s) => (s.desc(0, 0xfff0, 32, DESC.INDIRECT), s.avail(1, 0)), /indirect table of chain 0 at 0xfff0 \(\+32\) is outside/],
    [(s) => (s.desc(0, 0x4000, 16, DESC.INDIRECT), s.v.setUint16(0x400c, DESC.INDIRECT, true), s.v.setUint32(0x4008, 16, true), s.avail(1, 0)), /itself indirect/],
    [(s) => (s.desc(0, 0x4000, 32, DESC.INDIRECT), s.v.setUint16(0x400c, DESC.NEXT, true), s.v.setUint16(0x400e, 0, true), s.avail(1, 0)), /longer than its indirect table \(2\)/],
    [(s) => (s.desc(0, 0x4000, 32, DESC.INDIRECT), s.v.setUint16(0x400c, DESC.NEXT, true), s.v.setUint16(0x400e, 2, true), s.avail(1, 0)), /links to 2, past the indirect table/],
  ];
  for (const [spoil, re] of cases) {
    ram.fill(0);
    const s = queueOn(ram, 8, true);
    spoil(s);
    assert.throws(() => s.q.pop(), (e: unknown) => e instanceof QueueError && re.test(e.message), String(re));
  }
});

test("snapshot/restore moves a live console to another transport mid-stream (the hand-over)", () => {
  const { ram, d, dev, t, out } = consoleSetup();
  d.init([8, 8]);
  d.send(CONSOLE_TX, 0, enc("one\n"));
  d.send(CONSOLE_TX, 1, enc("two\n"));
  dev.feed(enc("typed"));
  const state = structuredClone(t.snapshot());
  const out2: string[] = [];
  const dev2 = new VirtioConsole({ output: (b) => out2.push(dec(b)) });
  const t2 = new VirtioMmioTransport(dev2, ram, { interrupt: () => {} });
  t2.restore(state);
  assert.equal(t2.read(MMIO.STATUS, 4), STATUS.ACKNOWLEDGE | STATUS.DRIVER | STATUS.FEATURES_OK | STATUS.DRIVER_OK);
  assert.equal(dev2.pendingInput, 5, "held input moves too");
  const d2 = Object.assign(Object.create(Object.getPrototypeOf(d)) as TestDriver, d, { t: t2 });
  d2.send(CONSOLE_TX, 2, enc("three\n"));
  assert.deepEqual(out, ["one\n", "two\n"]);
  assert.deepEqual(out2, ["three\n"]);
  assert.deepEqual(d2.takeUsed(CONSOLE_TX), [[0, 0], [1, 0], [2, 0]], "the used ring continues where it was");
  d2.post(CONSOLE_RX, 0, 16);
  assert.deepEqual(d2.takeUsed(CONSOLE_RX), [[0, 5]]);
  assert.equal(t2.notifications, t.notifications + 2);
});
