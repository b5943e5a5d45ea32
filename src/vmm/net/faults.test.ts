import { test } from "node:test";
import { strict as assert } from "node:assert";
import type { NetBackend } from "../devices/virtio/net.ts";
import { FaultLane, FaultyBackend, envNetFaults, parseNetFaults, type NetFaults } from "./faults.ts";

const frames = (n: number): Uint8Array[] => Array.from({ length: n }, (_v, i) => new Uint8Array([i & 255, i >> 8, 0, 0, 0, 0, 0, 0]));
const id = (f: Uint8Array): number => f[0]! | (f[1]! << 8);
const F = (o: Partial<NetFaults>): NetFaults => ({ loss: 0, reorder: 0, dup: 0, corrupt: 0, seed: 1, ...o });

test("KILN_NET_FAULTS parses every setting; bad ones are one-line errors that say the fix", () => {
  assert.deepEqual(parseNetFaults("loss=0.05,reorder=0.02,dup=0.01,corrupt=0,seed=7"), { loss: 0.05, reorder: 0.02, dup: 0.01, corrupt: 0, seed: 7 });
  assert.deepEqual(parseNetFaults(" loss=1 "), F({ loss: 1 }));
  assert.throws(() => parseNetFaults("loss=2"), /loss=2 is not a probability in 0\.\.1\. Example/);
  assert.throws(() => parseNetFaults("loss="), /loss= is not a probability/);
  assert.throws(() => parseNetFaults("seed=-1"), /seed "-1" is not a whole number/);
  assert.throws(() => parseNetFaults("jitter=0.1"), /unknown setting "jitter". Use loss, reorder, dup, corrupt/);
  assert.equal(envNetFaults(""), undefined);
  assert.equal(envNetFaults("seed=3"), undefined, "no rate above 0: no fault injection");
  assert.deepEqual(envNetFaults("dup=0.5"), F({ dup: 0.5 }));
});

test("fault injection replays: the same seed gives the same fate to every frame, another seed does not", () => {
  const f = F({ loss: 0.05, reorder: 0.02, dup: 0.01, corrupt: 0.01, seed: 7 });
  const run = (faults: NetFaults): string => {
    const lane = new FaultLane(faults, 1);
    return frames(20000).flatMap((x) => lane.apply(x)).map((x) => `${id(x)}:${x.join(",")}`).join(" ");
  };
  assert.equal(run(f), run(f));
  assert.notEqual(run(f), run({ ...f, seed: 8 }));
});

test("fault rates come out as asked, over 100,000 frames each way", () => {
  const n = 100_000;
  const lane = new FaultLane(F({ loss: 0.05, reorder: 0.02, dup: 0.01, corrupt: 0.03, seed: 11 }), 2);
  const out = frames(n).flatMap((x) => lane.apply(x));
  const c = lane.counts;
  const near = (got: number, p: number, what: string): void => assert.ok(Math.abs(got / n - p) < p * 0.15, `${what}: ${got} of ${n}, expected about ${p * n}`);
  near(c.lost, 0.05, "lost");
  near(c.duplicated, 0.01 * 0.95, "duplicated");
  near(c.corrupted, 0.03 * 0.95, "corrupted");
  assert.ok(c.reordered > 0.015 * n * 0.8, `reordered ${c.reordered}`);
  assert.equal(out.length + (lane.holding ? 1 : 0), n - c.lost + c.duplicated);
  // A corrupted frame differs from its original in exactly one byte.
  const bad = out.filter((x) => x.slice(2).some((b) => b !== 0) || (x[1]! > n >> 8));
  assert.ok(bad.length > 0 && bad.length <= c.corrupted);
});

test("reordering holds a frame until the next one has passed; a quiet link releases it (flush)", () => {
  const inner = { sent: [] as number[], inbox: [] as Uint8Array[] };
  const be: NetBackend = { send: (x) => void inner.sent.push(id(x)), receive: () => inner.inbox.shift() ?? null };
  const fb = new FaultyBackend(be, F({ reorder: 1 }));
  for (const x of frames(3)) fb.send(x);
  assert.deepEqual(inner.sent, [1, 0], "0 held, 1 passes, then 0; 2 held");
  assert.equal(fb.holding, true);
  fb.flush();
  assert.deepEqual(inner.sent, [1, 0, 2]);
  inner.inbox.push(...frames(3));
  const got = [fb.receive(), fb.receive(), fb.receive()].map((x) => (x ? id(x) : null));
  assert.deepEqual(got, [1, 0, null]);
  fb.flush();
  assert.equal(id(fb.receive()!), 2);
});

test("fault state moves with the device (thread hand-over) and the sequence goes on where it was", () => {
  const inner: NetBackend = { send: () => {}, receive: () => null };
  const f = F({ loss: 0.3, reorder: 0.1, dup: 0.1, seed: 5 });
  const a = new FaultyBackend(inner, f);
  const first = frames(50).map((x) => a.tx.apply(x).length).join("");
  const moved = new FaultyBackend(inner, f);
  moved.loadState(structuredClone(a.saveState()));
  const straight = new FaultyBackend(inner, f);
  frames(50).forEach((x) => straight.tx.apply(x));
  assert.equal(frames(50).map((x) => moved.tx.apply(x).length).join(""), frames(50).map((x) => straight.tx.apply(x).length).join(""));
  assert.equal(moved.tx.counts.lost, straight.tx.counts.lost);
  assert.ok(first.length === 50);
});
