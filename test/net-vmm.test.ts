// Kiln's VMM with a virtio-net guest (apps/echo) on a TAP, at the Vm level: a connection made
// straight to the guest's address over the TAP, data both ways, then the device report (served
// by the device thread, frame counters, the faults injected) and the VM's ledger (every fd and
// mapping released). Needs KVM and root or CAP_NET_ADMIN.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { buildFor } from "./lib/boot.ts";
import { Vm, kvmAvailable } from "../src/vmm/index.ts";
import { Tap } from "../src/vmm/net/tap.ts";
import { composeCmdline } from "../src/run/cmdline.ts";
import { tapWhy } from "../src/vmm/testing/taps.ts";

const skip = !kvmAvailable().ok ? "no KVM" : tapWhy;

async function roundTrip(host: string, text: string): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const c = connect(7, host);
        let got = "";
        c.on("error", reject);
        c.on("data", (d) => {
          got += d;
          if (got.length >= text.length) c.end();
        });
        c.on("close", () => resolve(got));
        c.write(text);
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test("virtio-net on the VMM: echo over the TAP, served by the device thread, faults counted, the ledger clean", { skip: skip ?? false, timeout: 120_000 }, async () => {
  const { built, memory, cmdline } = await buildFor("echo");
  const tap = Tap.open();
  try {
    const vm = await Vm.boot(built.image, {
      memory,
      cmdline: composeCmdline(cmdline, [tap.cmdlineWords], undefined),
      net: { fd: tap.fd, mac: tap.plan.mac, faults: { loss: 0.05, reorder: 0.05, dup: 0.05, corrupt: 0, seed: 9 } },
    });
    const text = "x".repeat(200_000);
    assert.equal((await roundTrip(tap.plan.guestIp, text)).length, text.length);
    vm.kill();
    const r = await vm.exited;
    const dev = r.virtio?.find((d) => d.name === "virtio-net");
    assert.ok(dev, JSON.stringify(r.virtio));
    assert.equal(dev.error, undefined);
    assert.equal(dev.servedBy, "device", "the data path left the exit loop");
    assert.ok(dev.net && dev.net.rxFrames > 50 && dev.net.txFrames > 50, JSON.stringify(dev.net));
    const f = dev.net.faults!;
    assert.ok(f.rx.lost + f.tx.lost > 0 && f.rx.duplicated + f.tx.duplicated > 0 && f.rx.reordered + f.tx.reordered > 0, JSON.stringify(f));
    assert.deepEqual(r.resources.outstanding, []);
    assert.deepEqual(r.resources.failures, []);
  } finally {
    tap.close();
  }
});

test("an image with virtio-net and no network is refused before anything is made", { skip: kvmAvailable().ok ? false : "no KVM", timeout: 60_000 }, async () => {
  const { built, memory } = await buildFor("echo");
  await assert.rejects(Vm.boot(built.image, { memory }), /vm option net: the image has a virtio-net driver but no network was given\. Pass net: \{ fd, mac \}/);
  await assert.rejects(Vm.boot(built.image, { memory, net: { fd: -1, mac: new Uint8Array(6) } }), /vm option net: fd -1/);
});
