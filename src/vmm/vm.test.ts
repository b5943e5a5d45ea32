import { test } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PassThrough } from "node:stream";
import { spawnSync } from "node:child_process";
import { Vm } from "./vm.ts";
import { VmConfigError, VmImageError } from "./errors.ts";
import { buildElf, goodElfSpec } from "./testing/elf-builder.ts";

const MiB = 1024 * 1024;
const fake = new URL("./testing/fake-machine.ts", import.meta.url).href;
const dir = mkdtempSync(path.join(tmpdir(), "kiln-vm-"));
const image = path.join(dir, "image.elf");
writeFileSync(image, buildElf(goodElfSpec()));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function collect(): { sink: (b: Uint8Array) => void; text: () => string } {
  const chunks: Uint8Array[] = [];
  return { sink: (b) => void chunks.push(b), text: () => Buffer.concat(chunks).toString("utf8") };
}

test("boot refuses bad options and images before starting anything", async () => {
  await assert.rejects(Vm.boot(image, { memory: 1 * MiB - 4096 }), /outside 1048576 \(1 MiB\)/);
  await assert.rejects(Vm.boot(image, { memory: 2 * MiB + 1 }), /not a multiple of 4 KiB/);
  await assert.rejects(Vm.boot(image, { memory: 2 * MiB, cmdline: "a\0b" }), /NUL/);
  await assert.rejects(Vm.boot(path.join(dir, "missing.elf"), { memory: 2 * MiB }), (e: unknown) => e instanceof VmImageError && e.code === "unreadable" && /ENOENT/.test(e.message));
  const big = goodElfSpec();
  big.segments[1]!.memsz = 4 * MiB;
  const bigPath = path.join(dir, "big.elf");
  writeFileSync(bigPath, buildElf(big));
  await assert.rejects(Vm.boot(bigPath, { memory: 2 * MiB }), (e: unknown) => e instanceof VmImageError && e.code === "beyond-memory");
  assert.equal(Vm.live.size, 0);
});

test("a worker boots the loaded image, streams the console, reports the exit and releases everything", async () => {
  const out = collect();
  const vm = await Vm.boot(image, { memory: 4 * MiB, cmdline: "fake=hello x=1", console: out.sink, machineModule: fake });
  const r = await vm.exited;
  assert.equal(r.reason, "exit");
  assert.equal(r.status, 7);
  assert.equal(out.text(), "magic=336ec578 cmdline=fake=hello x=1\nkiln: exit 7\n");
  assert.equal(r.resources.opened, 2);
  assert.equal(r.resources.released, 2);
  assert.deepEqual(r.resources.outstanding, []);
  assert.deepEqual(r.resources.failures, []);
  assert.ok(r.stats.ioExits > 20);
  assert.equal(Vm.live.size, 0);
});

test("kill() interrupts a vCPU waiting inside its run call (kick signal through pthread_kill)", async () => {
  const out = collect();
  const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=spin", console: out.sink, machineModule: fake });
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(Vm.live.size, 1);
  vm.kill();
  const r = await vm.exited;
  assert.equal(r.reason, "killed");
  assert.equal(r.status, 137);
  assert.ok(r.stats.kicks >= 1);
  assert.deepEqual(r.resources.outstanding, []);
  assert.match(out.text(), /cmdline=fake=spin/, "output flushed at exit");
});

test("console input reaches the guest through the UART; many VMs at once", async () => {
  const vms = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const input = new PassThrough();
      const out = collect();
      const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=echo", console: out.sink, input, machineModule: fake });
      return { vm, input, out, i };
    }),
  );
  assert.equal(Vm.live.size, 3);
  for (const { input, i } of vms) {
    input.write(`hello ${i}\n`);
    setTimeout(() => input.write("more q"), 50);
  }
  for (const { vm, out, i } of vms) {
    const r = await vm.exited;
    assert.equal(r.reason, "exit", r.detail);
    assert.equal(r.status, 0);
    assert.equal(out.text(), `magic=336ec578 cmdline=fake=echo\nhello ${i}\nmore `);
    assert.deepEqual(r.resources.outstanding, []);
  }
  assert.equal(Vm.live.size, 0);
});

test("a triple fault ends the VM with a report", async () => {
  const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=triple", machineModule: fake });
  const r = await vm.exited;
  assert.equal(r.reason, "triple-fault");
  assert.equal(r.status, 255);
  assert.match(r.registers!.join("\n"), /rip=0x0000000000100010 +rflags=0x0000000000000002|rip=0x0000000000100010/);
});

test("threads are reused: boot takes a spare, which is a spare again after its VM; idle spares do not keep the process alive", async () => {
  await Vm.settled();
  const kept = Vm.spareWorkers;
  assert.ok(kept >= 1, "the threads of the VMs of earlier tests were kept");
  const ready = Vm.prewarm(kept + 2);
  assert.equal(Vm.spareWorkers, kept + 2);
  await ready;
  const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=hello", machineModule: fake });
  assert.equal(Vm.spareWorkers, kept + 1, "the boot took a loaded spare thread, not a new one");
  const r = await vm.exited;
  assert.equal(r.status, 7);
  assert.deepEqual(r.resources.outstanding, []);
  await Vm.settled();
  assert.equal(Vm.spareWorkers, kept + 2, "the thread came back");
  // How much faster a spare is lives in `kiln bench boot --in-process` (in_process_ms against
  // in_process_cold_ms), not here: a timed bound flaked on a loaded host.
  // A process left with idle spares still exits by itself.
  const vmUrl = new URL("./vm.ts", import.meta.url).href;
  const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", `const { Vm } = await import(${JSON.stringify(vmUrl)}); await Vm.prewarm(2); console.log("spares", Vm.spareWorkers);`], { encoding: "utf8", timeout: 30000 });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, "spares 2\n");
});

test("a vCPU that ignores kill() is terminated after the grace period; exited still settles", async () => {
  const out = collect();
  const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=deaf", killGraceMs: 300, machineModule: fake, console: out.sink });
  while (!out.text().includes("\n")) await new Promise((r) => setTimeout(r, 10));
  vm.kill();
  const r = await vm.exited;
  assert.equal(r.reason, "killed");
  assert.equal(r.status, 137);
  assert.match(r.detail, /did not stop within 300 ms of kill\(\); thread terminated/);
  assert.match(r.resources.failures[0]!, /unaccounted for/);
  assert.equal(Vm.live.size, 0);
});

test("a prompt without a newline reaches the console while the guest waits (no exits)", async () => {
  const out = collect();
  const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=prompt", console: out.sink, machineModule: fake });
  const t0 = Date.now();
  while (!out.text().endsWith("> ") && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 10));
  assert.ok(out.text().endsWith("> "), `console so far: ${JSON.stringify(out.text())}`);
  vm.kill();
  assert.equal((await vm.exited).reason, "killed");
});

test("a worker that fails before running makes boot reject (no hang)", async () => {
  await assert.rejects(
    Vm.boot(image, { memory: 2 * MiB, machineModule: new URL("./testing/no-such-module.ts", import.meta.url).href }),
    /cannot start the VM: vCPU worker failed: Cannot find module/,
  );
  assert.equal(Vm.live.size, 0);
});

test("an abort signal stops a VM whose setup hangs (boot rejects), and kills a running one", async () => {
  const stuck = new URL("./testing/stuck-machine.ts", import.meta.url).href;
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  await assert.rejects(Vm.boot(image, { memory: 2 * MiB, machineModule: stuck, signal: ac.signal }), /cannot start the VM: aborted before the guest started; vCPU thread terminated/);
  assert.equal(Vm.live.size, 0);

  const running = new AbortController();
  const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=spin", machineModule: fake, signal: running.signal });
  running.abort();
  const r = await vm.exited;
  assert.equal(r.reason, "killed");
  assert.deepEqual(r.resources.outstanding, []);
});

test("a pool keeps shells of its memory size: boots take them warm, reuse them after a reset, and close() destroys them", async () => {
  const pool = await Vm.pool({ size: 1, memory: 4 * MiB, machineModule: fake });
  assert.equal(pool.ready, 1);
  const outs: string[] = [];
  for (let i = 0; i < 3; i++) {
    const out = collect();
    const vm = await Vm.boot(image, { memory: 4 * MiB, cmdline: `fake=hello n=${i}`, console: out.sink, machineModule: fake });
    assert.equal(vm.warm, true, `boot ${i} took the pooled shell (waiting for its reset)`);
    const r = await vm.exited;
    assert.equal(r.status, 7);
    assert.equal(r.resources.opened, 0, "a warm VM opens nothing: the shell holds its fds and mappings");
    outs.push(out.text());
  }
  assert.deepEqual(outs, [0, 1, 2].map((i) => `magic=336ec578 cmdline=fake=hello n=${i}\nkiln: exit 7\n`));
  const other = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=hello", machineModule: fake });
  assert.equal(other.warm, false, "another memory size boots cold");
  assert.equal((await other.exited).resources.opened, 2);
  await pool.close();
  assert.equal(pool.ready, 0);
  await Vm.settled();
  assert.equal(Vm.live.size, 0);
});

test("Vm.pool refuses a bad size or memory before making anything", async () => {
  await assert.rejects(Vm.pool({ size: -1, memory: 2 * MiB, machineModule: fake }), VmConfigError);
  await assert.rejects(Vm.pool({ size: 1, memory: 1 * MiB - 4096, machineModule: fake }), VmConfigError);
});

test("a pool whose shells cannot be made rejects with the reason, and does not retry forever", async () => {
  await assert.rejects(Vm.pool({ size: 2, memory: 6 * MiB, machineModule: fake }), /: cannot make a VM shell of 6291456 bytes: fake KVM refuses shells of this size$/);
  await Vm.settled();
  const vm = await Vm.boot(image, { memory: 6 * MiB, cmdline: "fake=hello", machineModule: fake });
  assert.equal(vm.warm, false);
  assert.equal((await vm.exited).status, 7);
  await Vm.settled();
});

for (const devicesFirst of [true, false])
test(`virtio-console ${devicesFirst ? "on its device thread from the start" : "served by the vCPU thread until its device thread is up"}: announced on the command line, output in order, input delivered, report`, async () => {
  const out = collect();
  const input = new PassThrough();
  const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=virtio lines=5 echo", console: out.sink, input, machineModule: fake, devices: ["virtio-console"], devicesFirst });
  input.write("typed\n");
  const r = await vm.exited;
  assert.equal(r.reason, "exit", r.detail);
  const text = out.text();
  assert.match(text, /cmdline=fake=virtio lines=5 echo virtio_mmio\.device=512@0xd0000000:5\n/, "the device is announced at the end of the command line");
  assert.match(text, /virtio magic=74726976 version=2 id=3\nstatus=15\n/);
  assert.match(text, /status=15\nvirtio line 0\nvirtio line 1\nvirtio line 2\nvirtio line 3\nvirtio line 4\necho typed\n$/);
  assert.equal(r.virtio?.length, 1);
  const dev = r.virtio![0]!;
  assert.equal(dev.name, "virtio-console");
  assert.equal(dev.status, 15);
  assert.equal(dev.error, undefined);
  assert.equal(dev.txChains, 6);
  assert.equal(dev.rxBytes, 6);
  if (devicesFirst) assert.equal(dev.servedBy, "device");
  assert.deepEqual(r.resources.outstanding, [], "eventfds closed, RAM unmapped after the device thread stopped");
  assert.deepEqual(r.resources.failures, []);
});

test("devices: [] boots an image without its virtio devices", async () => {
  const out = collect();
  const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline: "fake=virtio", console: out.sink, machineModule: fake, devices: [] });
  const r = await vm.exited;
  assert.equal(r.reason, "exit", r.detail);
  assert.match(out.text(), /no virtio device announced/);
  assert.equal(r.virtio, undefined);
});
