// virtio-console end to end: the image's device note makes the runner attach the device, the
// guest driver finds it on the command line and takes the console output from the 16550, and
// the same image without the device stays on the serial port. Runs on QEMU (TCG where there is
// no KVM) and, with KILN_TEST_RUNNER=vmm, on Kiln's VMM.
import { test } from "node:test";
import assert from "node:assert/strict";
import { buildFor } from "./lib/boot.ts";
import { PassThrough } from "node:stream";
import { runImage, testRunner } from "../src/run/index.ts";
import { Vm, kvmAvailable } from "../src/vmm/index.ts";

const kvm = kvmAvailable();

const counters = (out: string) => {
  const m = /^virtio-console: active=(\d) writes=(\d+) bytes=(\d+) chains=(\d+) notifies=(\d+) waits=(\d+)$/m.exec(out);
  assert.ok(m, `no counters line in:\n${out}`);
  const [active, writes, bytes, chains, notifies, waits] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  return { active, writes, bytes, chains, notifies, waits };
};

test("virtio-console carries the console: output arrives in order, one chain a line, and the exit waits for it", async () => {
  const { built, memory } = await buildFor("virtio-console");
  const r = await runImage(built.image, { runner: testRunner(), memory, cmdline: "-- lines 200 40", timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /^hello over virtio-console$/m);
  const lines = r.output.split("\n").filter((l) => /^x+$/.test(l));
  assert.equal(lines.length, 200, "every line arrived");
  assert.ok(lines.every((l) => l.length === 39));
  assert.match(r.output, /^console-bench: backend=virtio lines=200 bytes=40 cycles=\d+ tsc_khz=\d+$/m);
  const c = counters(r.output);
  assert.equal(c.active, 1);
  assert.ok(c.chains >= 201 && c.chains <= 210, `one chain a line (${c.chains})`);
  // One notification a chain at most, plus one for each wait on a device that made no
  // progress for a whole round (the driver's guard against a lost notification).
  assert.ok(c.notifies <= c.chains + c.waits, `notifications: ${c.notifies} for ${c.chains} chains and ${c.waits} waits`);
  // The counters line itself came through the device, after its own numbers were taken.
  assert.match(r.output, /virtio-console: active=1 .*\nkiln: exit 0\n?$/);
});

test("the same image without the device stays on the serial port", async () => {
  const { built, memory } = await buildFor("virtio-console");
  const r = await runImage(built.image, { runner: testRunner(), memory, cmdline: "-- lines 3 10", devices: [], timeoutMs: 60_000 });
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /^hello over the serial port$/m);
  assert.match(r.output, /backend=serial lines=3/);
  assert.equal(counters(r.output).active, 0);
});

test("console input reaches the guest through virtio-console (Kiln's VMM)", { skip: kvm.ok ? false : `needs KVM: ${kvm.ok ? "" : kvm.reason}` }, async () => {
  const { built, memory } = await buildFor("virtio-console");
  const input = new PassThrough();
  let out = "";
  const vm = await Vm.boot(built.image, {
    memory,
    cmdline: "-- echo",
    input,
    console: (b) => {
      out += new TextDecoder().decode(b);
      if (out.includes("type a line\n")) input.write("over the receive queue\n");
    },
    signal: AbortSignal.timeout(60_000),
  });
  const r = await vm.exited;
  assert.equal(r.status, 0, `${r.detail}\n${out}`);
  assert.match(out, /^echo: over the receive queue$/m);
  const dev = r.virtio?.[0];
  assert.ok(dev && dev.rxBytes >= 23, `receive bytes: ${dev?.rxBytes}`);
  assert.equal(dev.error, undefined);
  assert.deepEqual(r.resources.outstanding, []);
});
