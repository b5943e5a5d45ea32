// Feeds random and mutated descriptor chains through the virtio-mmio transport, its split
// queues and the console and net devices (half the chains each), as a hostile guest would: bad addresses, loops, overlong
// chains, wrapped and bogus avail indices, zero and huge lengths, indirect tables (negotiated or
// not), writable buffers on the transmit queue, readable ones on the receive queue. Asserts that
// nothing throws out of the transport, that every failure is a QueueError the device reported
// (never a VMM bug such as a RangeError), that the device never writes outside guest RAM (guard
// zones around it) nor into a buffer the driver did not mark device-writable, and that it
// finishes (the test's timeout). Seeded: a failure names the seed and iteration to replay.
//   KILN_VIRTIO_FUZZ_CHAINS=10000000 KILN_VIRTIO_FUZZ_SEED=7 node --import tsx --test src/vmm/devices/virtio/fuzz.test.ts
import { test } from "node:test";
import { strict as assert } from "node:assert";
import { TestDriver } from "../../testing/virtio-driver.ts";
import { mulberry32 } from "../../net/faults.ts";
import { CONSOLE_RX, CONSOLE_TX, VirtioConsole } from "./console.ts";
import { NET_F_MAC, VirtioNet } from "./net.ts";
import { DESC, F, MMIO, STATUS, bit } from "./spec.ts";
import { VirtioMmioTransport } from "./transport.ts";
import type { VirtioDevice } from "./device.ts";

const CHAINS = Number(process.env.KILN_VIRTIO_FUZZ_CHAINS ?? 1_000_000);
const SEED = Number(process.env.KILN_VIRTIO_FUZZ_SEED ?? 0x6b696c6e);
const RAM = 0x8000;
const GUARD = 0x1000;
const DATA = 0x4000; // queues live below, buffers mostly above (but anything goes)
const CANARY = 0xa5;

/** One device under fuzz: how to make it, feed it host input, and what only it can fail with. */
interface Subject {
  name: string;
  /** Its receive and transmit queues (both devices: 0 and 1). */
  rx: number;
  tx: number;
  features: bigint;
  make(out: (n: number) => void): { dev: VirtioDevice; feed: (n: number) => void };
  /** Failure messages this device must have produced, besides the queue code's. */
  own: RegExp[];
}

const SUBJECTS: Subject[] = [
  {
    name: "console",
    rx: CONSOLE_RX,
    tx: CONSOLE_TX,
    features: 0n,
    make: (out) => {
      const dev = new VirtioConsole({ output: (b) => out(b.length), inputCapacity: 256 });
      return { dev, feed: (n) => void dev.feed(new Uint8Array(n).fill(0x42)) };
    },
    own: [/device-writable buffer/, /device-readable buffer/],
  },
  {
    name: "net",
    rx: 0,
    tx: 1,
    features: bit(NET_F_MAC),
    make: (out) => {
      const inbox: Uint8Array[] = [];
      const dev = new VirtioNet({ mac: new Uint8Array(6), backend: { send: (f) => out(f.length), receive: () => inbox.shift() ?? null } });
      return { dev, feed: (n) => {
        if (inbox.length < 4) inbox.push(new Uint8Array(n).fill(0x42));
        dev.poll();
      } };
    },
    own: [/device-writable buffer/, /device-readable buffer/, /less than the N-byte virtio_net_hdr/, /but no offload/],
  },
];

for (const subject of SUBJECTS) {
const chains = Math.ceil(CHAINS / SUBJECTS.length);
test(`virtio fuzz (${subject.name}): ${chains} random and mutated chains fail only the device (seed ${SEED})`, { timeout: 120_000 }, () => {
  const rand = mulberry32(SEED).next;
  const int = (n: number): number => Math.floor(rand() * n);
  const whole = new Uint8Array(GUARD + RAM + GUARD).fill(CANARY);
  const ram = whole.subarray(GUARD, GUARD + RAM).fill(0);
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const ram32 = new Uint32Array(ram.buffer, ram.byteOffset, RAM / 4);
  let outBytes = 0;
  const { dev, feed } = subject.make((n) => (outBytes += n));
  const failures = new Map<string, number>();
  const t = new VirtioMmioTransport(dev, ram, {
    interrupt: () => {},
    onError: (m) => {
      const kind = m.replace(/0x[0-9a-f]+|\d+/g, "N");
      failures.set(kind, (failures.get(kind) ?? 0) + 1);
    },
  });
  const d = new TestDriver(t, ram, 0);
  const sizes = [1, 2, 4, 8, 16, 64, 256];
  let indirect = false;
  const reinit = (): void => {
    indirect = rand() < 0.5;
    const s = sizes[int(sizes.length)]!;
    const status = d.init([s, sizes[int(sizes.length)]!], bit(F.VERSION_1) | subject.features | (indirect ? bit(F.INDIRECT_DESC) : 0n));
    assert.equal(status & STATUS.DRIVER_OK, STATUS.DRIVER_OK);
  };
  reinit();

  const addr = (): number => {
    const r = rand();
    if (r < 0.7) return DATA + int(RAM - DATA);
    if (r < 0.8) return int(RAM);
    if (r < 0.9) return RAM - int(64); // straddles the end
    return r < 0.95 ? int(2 ** 32) : 2 ** 32 + int(2 ** 20); // far away, or high word set
  };
  const len = (): number => {
    const r = rand();
    if (r < 0.15) return 0;
    if (r < 0.85) return 1 + int(128);
    return r < 0.95 ? int(RAM) : int(2 ** 32);
  };
  const writeDesc = (table: number, i: number, a: number, l: number, flags: number, next: number): void => {
    const at = table + 16 * i;
    if (at < 0 || at + 16 > RAM) return;
    view.setUint32(at, a % 2 ** 32, true);
    view.setUint32(at + 4, Math.floor(a / 2 ** 32) % 2 ** 32, true);
    view.setUint32(at + 8, l % 2 ** 32, true);
    view.setUint16(at + 12, flags, true);
    view.setUint16(at + 14, next, true);
  };

  let writableSpans: Array<[number, number]> = [];
  let checked = 0;
  for (let iter = 0; iter < chains; iter++) {
    // Every 64th chain goes to a freshly reset receive queue, with nothing else pending, and
    // each RAM byte the device changes must then lie in one of its writable buffers.
    const exact = iter % 64 === 0;
    if (exact) reinit();
    const q = exact || rand() < 0.5 ? subject.rx : subject.tx;
    const dq = d.queues[q]!;
    if (exact) ram.fill(0, dq.desc, dq.desc + 16 * dq.size); // no stale writable descriptors
    const size = dq.size;
    const mode = int(10);
    // Build a chain at head h: n descriptors linked h, h+1, ... (mod size), possibly spoiled.
    const h = int(size);
    const n = mode === 3 ? size + 1 + int(4) : 1 + int(Math.min(size, 6));
    const flagFor = (): number => (q === subject.rx ? DESC.WRITE : 0) ^ (mode === 4 && rand() < 0.3 ? DESC.WRITE : 0);
    writableSpans = [];
    if (mode === 5 && indirect) {
      // An indirect table in the data area, possibly malformed.
      const entries = 1 + int(8);
      const table = (DATA + int(RAM - DATA - 16 * entries)) & ~15;
      for (let i = 0; i < entries; i++) {
        const a = addr();
        const l = len();
        const f = flagFor() | (i < entries - 1 ? DESC.NEXT : 0) | (rand() < 0.05 ? DESC.INDIRECT : 0);
        writeDesc(table, i, a, l, f, rand() < 0.1 ? int(entries + 2) : i + 1);
        if (f & DESC.WRITE) writableSpans.push([a, l]);
      }
      const tl = rand() < 0.1 ? 16 * entries + int(16) : 16 * entries;
      writeDesc(dq.desc, h, rand() < 0.05 ? table + 8 : table, tl, DESC.INDIRECT | (rand() < 0.05 ? DESC.NEXT : 0), 0);
    } else {
      for (let k = 0; k < Math.min(n, size + 4); k++) {
        const i = (h + k) % size;
        const last = k === n - 1;
        const a = mode === 6 ? addr() : DATA + int(RAM - DATA - 200);
        const l = mode === 6 ? len() : mode === 7 ? 0 : 1 + int(100);
        let f = flagFor() | (last ? 0 : DESC.NEXT);
        let next = (i + 1) % size;
        if (mode === 1 && rand() < 0.5) next = int(size + 3); // stray link
        if (mode === 2 && rand() < 0.3) f = int(8); // random flags, incl. INDIRECT
        if (mode === 3) next = (h + int(k + 1)) % size; // loops back
        writeDesc(dq.desc, i, a, l, f, next);
        if (f & DESC.WRITE) writableSpans.push([a, l]);
        if (mode === 3 && k >= size) break;
      }
      if (mode === 8) {
        // Random bytes over a few descriptors.
        for (let k = 0; k < 16 * Math.min(size, 2); k++) {
          const at = dq.desc + 16 * h + k;
          if (at < RAM) view.setUint8(at, int(256));
        }
        writableSpans.push([0, RAM]); // anything is possibly writable now
      }
    }
    // Publish: normally one entry; sometimes a bogus or wrapped avail.idx, or a bad head.
    if (mode === 9 && rand() < 0.5) {
      view.setUint16(dq.avail + 2, int(0x10000), true);
      writableSpans.push([0, RAM]);
    } else {
      d.offer(q, mode === 9 ? size + int(0x10000 - size) : h, false);
    }
    const snapshot = exact ? ram.slice() : undefined;
    if (q === subject.rx) feed(1 + int(200));
    assert.doesNotThrow(() => t.write(MMIO.QUEUE_NOTIFY, 4, q), `iteration ${iter}`);
    if (snapshot) {
      // Every byte that changed lies in a device-writable buffer or in the used ring.
      const usedEnd = dq.used + 6 + 8 * size;
      const before = new Uint32Array(snapshot.buffer);
      for (let w = 0; w < RAM / 4; w++) {
        if (before[w] === ram32[w]) continue;
        for (let b = 4 * w; b < 4 * w + 4; b++) {
          if (snapshot[b] === ram[b] || (b >= dq.used && b < usedEnd)) continue;
          assert.ok(writableSpans.some(([a, l]) => b >= a && b < a + l), `seed ${SEED} iteration ${iter}: the device wrote 0x${b.toString(16)}, not in a writable buffer`);
        }
      }
      checked++;
    }
    if (t.error !== undefined) {
      assert.doesNotMatch(t.error, /^device error/, `seed ${SEED} iteration ${iter}: not a QueueError: ${t.error}`);
      reinit();
    } else if (rand() < 0.02) {
      reinit();
    }
  }
  for (let b = 0; b < GUARD; b++) {
    assert.equal(whole[b], CANARY, "guard zone below guest RAM touched");
    assert.equal(whole[GUARD + RAM + b], CANARY, "guard zone above guest RAM touched");
  }
  const total = [...failures.values()].reduce((a, b) => a + b, 0);
  assert.ok(total > chains / 10, `only ${total} device failures: the fuzzer is not producing malformed chains`);
  assert.ok(outBytes > 0 && total < chains, "some chains must be well formed");
  assert.ok(checked > 0);
  // Every failure class the queue code knows should have been reached.
  const kinds = [...failures.keys()].join("\n");
  for (const re of [/loop or an overlong/, /outside the N-byte guest RAM/, /avail\.idx/, /links to N/, /not a descriptor/, /readable buffer after/, ...subject.own])
    assert.match(kinds, re);
});
}
