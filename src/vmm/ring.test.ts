import { test } from "node:test";
import { strict as assert } from "node:assert";
import { Worker } from "node:worker_threads";
import { ByteRing } from "./ring.ts";
import { VCPU_STATE, VcpuControl } from "./control.ts";

test("ring: wraps, keeps order, refuses when full", () => {
  const r = ByteRing.create(8);
  assert.equal(r.write(new Uint8Array([1, 2, 3, 4, 5])), 5);
  assert.deepEqual([...r.read(3)], [1, 2, 3]);
  assert.equal(r.write(new Uint8Array([6, 7, 8, 9, 10, 11])), 5, "capacity-1 bytes in flight");
  assert.equal(r.available, 7);
  assert.deepEqual([...r.read(100)], [4, 5, 6, 7, 8, 9, 10]);
  assert.equal(r.available, 0);
  assert.deepEqual([...r.read(1)], []);
  assert.throws(() => ByteRing.create(6), /power of two/);
});

test("ring: bytes cross threads intact", async () => {
  const r = ByteRing.create(64);
  const total = 20000;
  const w = new Worker(
    `const { workerData, parentPort } = require("worker_threads");
     const idx = new Int32Array(workerData, 0, 2), data = new Uint8Array(workerData, 8);
     let sum = 0, n = 0;
     while (n < ${total}) {
       const head = Atomics.load(idx, 0), tail = Atomics.load(idx, 1);
       if (head === tail) continue;
       sum = (sum * 31 + data[head]) >>> 0; n++;
       Atomics.store(idx, 0, (head + 1) & 63);
     }
     parentPort.postMessage(sum);`,
    { eval: true, workerData: r.sab },
  );
  let expect = 0;
  let sent = 0;
  while (sent < total) {
    const chunk = new Uint8Array(Math.min(50, total - sent)).map((_, i) => (sent + i) * 7);
    let off = 0;
    while (off < chunk.length) off += r.write(chunk.subarray(off));
    for (const b of chunk) expect = (expect * 31 + b) >>> 0;
    sent += chunk.length;
  }
  const got = await new Promise((res) => w.once("message", res));
  assert.equal(got, expect);
});

test("control: kicks only a running worker; finish waits out a kick", () => {
  const c = VcpuControl.create();
  const kills: Array<[bigint, number]> = [];
  const sys = { pthreadKill: (t: bigint, s: number) => (kills.push([t, s]), 0) };
  assert.equal(c.kick(sys), false, "not started");
  c.running(0x7fff0000n);
  assert.equal(c.kick(sys), true);
  assert.deepEqual(kills, [[0x7fff0000n, 12]]);
  assert.equal(c.state, VCPU_STATE.running);
  c.requestStop();
  assert.equal(c.stopRequested(), true);
  c.finish();
  assert.equal(c.state, VCPU_STATE.done);
  assert.equal(c.kick(sys), false, "never signals a finished thread");
  assert.equal(kills.length, 1);
});
