// apps/echo reached from the host through a published port, on each runner and network: Kiln's
// VMM over a TAP (virtio-net device model, port proxy), QEMU over the same kind of TAP (fd 3),
// and QEMU's user mode (hostfwd). 1 MB goes through and must come back intact; the run is then
// stopped and its TAP must be gone. TAP runs need root or CAP_NET_ADMIN (skipped otherwise).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { buildFor } from "./lib/boot.ts";
import { freePort } from "../src/free-port.ts";
import { kilnTaps, ownTaps, tapWhy, tunFds } from "../src/vmm/testing/taps.ts";
import { runImage, type RunnerName } from "../src/run/index.ts";
import type { NetMode } from "../src/run/net-options.ts";
import { kvmAvailable } from "../src/vmm/index.ts";

/** Connects (retrying while the guest boots), sends `bytes`, returns what came back. */
async function echo(port: number, bytes: Buffer): Promise<Buffer> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        let got = 0;
        const c = connect(port, "127.0.0.1");
        c.on("error", reject);
        c.on("data", (d: Buffer) => {
          chunks.push(d);
          got += d.length;
          if (got >= bytes.length) c.end();
        });
        c.on("close", () => (got > 0 ? resolve(Buffer.concat(chunks)) : reject(new Error("closed with nothing echoed"))));
        c.write(bytes);
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

const vmmSkip = !kvmAvailable().ok ? "no KVM" : tapWhy;
const cases: Array<{ runner: RunnerName; mode: NetMode; skip?: string | boolean; faults?: string }> = [
  { runner: "vmm", mode: "tap", skip: vmmSkip },
  { runner: "vmm", mode: "tap", skip: vmmSkip, faults: "loss=0.05,reorder=0.02,dup=0.01,seed=7" },
  { runner: "qemu", mode: "tap", skip: tapWhy },
  { runner: "qemu", mode: "user" },
];

for (const { runner, mode, skip, faults } of cases) {
  test(`apps/echo through -p on ${runner} (${mode}${faults ? `, KILN_NET_FAULTS=${faults}` : ""}): 1 MB comes back intact, and the run leaves no TAP`, { skip: skip ?? false, timeout: 180_000 }, async () => {
    const savedFaults = process.env.KILN_NET_FAULTS;
    if (faults) process.env.KILN_NET_FAULTS = faults;
    else delete process.env.KILN_NET_FAULTS;
    const { built, memory, cmdline } = await buildFor("echo");
    const hostPort = await freePort();
    const stop = new AbortController();
    let out = "";
    const running = runImage(built.image, {
      runner,
      memory,
      cmdline,
      timeoutMs: 170_000,
      stop: stop.signal,
      net: { mode, publish: [{ hostAddress: "127.0.0.1", hostPort, guestPort: 7, proto: "tcp" }] },
      onOutput: (t) => (out += t),
    });
    if (savedFaults === undefined) delete process.env.KILN_NET_FAULTS;
    else process.env.KILN_NET_FAULTS = savedFaults;
    let ours: string[] = [];
    try {
      const data = Buffer.alloc(1 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 9)) & 255;
      const back = await echo(hostPort, data);
      assert.equal(back.length, data.length, out);
      assert.equal(createHash("sha256").update(back).digest("hex"), createHash("sha256").update(data).digest("hex"));
      ours = ownTaps();
      assert.equal(ours.length, mode === "tap" ? 1 : 0, "a TAP for a tap run, none in user mode");
    } finally {
      stop.abort();
    }
    const r = await running;
    assert.equal(r.stopped, true, r.output);
    assert.deepEqual(kilnTaps().filter((n) => ours.includes(n)), [], "the run's TAP is gone");
    assert.equal(tunFds(), 0, "no /dev/net/tun fd left in this process");
  });
}

test("a run killed by its timeout closes its TAP too", { skip: vmmSkip ?? false, timeout: 120_000 }, async () => {
  const { built, memory, cmdline } = await buildFor("echo");
  const run = runImage(built.image, { runner: "vmm", memory, cmdline, timeoutMs: 3000, net: { mode: "tap", publish: [] } });
  await new Promise((r) => setTimeout(r, 1000));
  const ours = ownTaps();
  assert.equal(ours.length, 1);
  await assert.rejects(run, /did not exit within 3000 ms/);
  assert.deepEqual(kilnTaps().filter((n) => ours.includes(n)), [], "no TAP left");
  assert.equal(tunFds(), 0);
});
