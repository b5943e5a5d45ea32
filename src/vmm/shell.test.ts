// The warm pool's reset, on real KVM: a guest that leaves a secret all over its RAM and its
// registers, LAPIC, PIT and PIC must leave nothing a second guest in the same shell can see.
// Skips where /dev/kvm is not usable.
import { test } from "node:test";
import { strict as assert } from "node:assert";
import { readFileSync, rmSync } from "node:fs";
import * as path from "node:path";
import { kvmAvailable } from "./available.ts";
import { VcpuControl } from "./control.ts";
import { outputChunks, type WorkerInit, type WorkerMessage } from "./messages.ts";
import { ByteRing } from "./ring.ts";
import { KvmShell, type RamReset } from "./shell.ts";
import { loadSys } from "./sys.ts";
import { SCAN_FIELDS, SECRET, buildSecretGuest } from "./testing/secret-guest.ts";
import { Vm } from "./vm.ts";
import { runVcpuWorker } from "./worker-main.ts";

const MiB = 1024 * 1024;
const kvm = kvmAvailable();
const noKvm = kvm.ok ? false : `KVM is not usable here (${kvm.reason})`;
const image = buildSecretGuest();
test.after(() => rmSync(path.dirname(image), { recursive: true, force: true }));

function secretDwords(mem: Uint8Array): number {
  const v = new Uint32Array(mem.buffer, mem.byteOffset, mem.byteLength >>> 2);
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] === SECRET) n++;
  return n;
}

/** Runs the image once in the shell on this thread (what the vCPU worker does). */
function runIn(shell: KvmShell, cmdline: string): { status: number; output: string } {
  const messages: WorkerMessage[] = [];
  const init: WorkerInit = { image: readFileSync(image), file: image, memory: shell.memory, cmdline, control: VcpuControl.create().sab, input: ByteRing.create().sab };
  runVcpuWorker(init, (m) => messages.push(m), loadSys(), () => shell.machine);
  const exit = messages.find((m) => m.type === "exit");
  assert.ok(exit && exit.type === "exit");
  const output = Buffer.concat(outputChunks(messages)).toString("utf8");
  assert.equal(exit.exit.reason, "exit", exit.exit.detail);
  return { status: exit.exit.status, output };
}

/**
 * Bytes KVM computes from the clock when asked, so they differ between any two reads: the TSC
 * MSR (0x10), the kvmclock value, the PIT channels' load timestamps, the LAPIC's current count.
 */
function volatile(part: string, bytes: Uint8Array): Uint8Array {
  const b = bytes.slice();
  const v = new DataView(b.buffer);
  if (part === "MSRS") {
    for (let i = 0; i < v.getUint32(0, true); i++) if (v.getUint32(8 + i * 16, true) === 0x10) v.setBigUint64(8 + i * 16 + 8, 0n, true);
  } else if (part === "CLOCK") b.fill(0);
  else if (part === "PIT2") for (let c = 0; c < 3; c++) v.setBigUint64(c * 24 + 16, 0n, true);
  else if (part === "LAPIC") v.setUint32(0x390, 0, true);
  return b;
}

for (const ramReset of ["fill", "madvise", "resident"] as RamReset[]) {
  test(`KVM: a reset shell (RAM by ${ramReset}) holds none of the last guest's secret and all of KVM's state is as new`, { skip: noKvm }, () => {
    const shell = KvmShell.create(loadSys(), 2 * MiB, ramReset);
    try {
      const fresh = shell.readState();
      const r = runIn(shell, "secret");
      assert.equal(r.status, 5);
      // The guest really covered its RAM: all of it but its code page (and the boot pages the
      // VMM rewrote before it ran... it overwrote those too).
      assert.ok(secretDwords(shell.machine.memory) >= (2 * MiB - 4096) / 4 - 16, `${secretDwords(shell.machine.memory)} secret dwords`);
      const dirty = shell.readState();
      const changed = [...fresh].filter(([k, v]) => !Buffer.from(volatile(k, v)).equals(volatile(k, dirty.get(k)!))).map(([k]) => k);
      for (const part of ["DEBUGREGS", "LAPIC", "PIT2", "IRQCHIP (PIC master)", "REGS"]) assert.ok(changed.includes(part), `the guest changed ${part} (changed: ${changed.join(", ")})`);

      shell.reset();
      assert.equal(secretDwords(shell.machine.memory), 0);
      assert.ok(shell.machine.memory.every((b) => b === 0), "guest RAM is all zeros");
      const after = shell.readState();
      for (const [part, bytes] of fresh)
        assert.deepEqual([...volatile(part, after.get(part)!)], [...volatile(part, bytes)], `${part} after reset equals a new VM's`);

      const scan = runIn(shell, "scan");
      assert.equal(scan.status, 6);
      assert.match(scan.output, /00000000\n$/, "no secret dword in RAM");
    } finally {
      const res = shell.destroy();
      assert.deepEqual(res.outstanding, []);
      assert.deepEqual(res.failures, []);
    }
  });
}

test("KVM: the resident reset zeroes resident pages in place and gives the others back", { skip: noKvm }, () => {
  const sys = loadSys();
  const shell = KvmShell.create(sys, 2 * MiB, "resident");
  try {
    const ram = shell.machine.memory;
    const pages = (2 * MiB) / 4096;
    const resident = (): boolean[] => {
      const vec = new Uint8Array(pages);
      assert.equal(sys.mincore(shell.machine.ramAddress, 2 * MiB, vec), 0);
      return [...vec].map((b) => (b & 1) === 1);
    };
    shell.reset(); // a new shell's RAM may have been touched by nobody: start from a known state
    // Secret in pages 0-9 and 300-511 (touched, so resident); 10-299 never touched.
    const v = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    for (const [from, to] of [[0, 10], [300, pages]]) for (let p = from!; p < to!; p++) for (let o = 0; o < 4096; o += 4) v.setUint32(p * 4096 + o, SECRET, true);
    const before = resident();
    assert.ok(before.slice(0, 10).every(Boolean) && before.slice(300).every(Boolean), "the written pages are resident");
    assert.ok(before.slice(10, 300).every((r) => !r), "the untouched pages are not");
    shell.reset();
    const after = resident(); // before reading RAM: a read maps the zero page, which counts as resident
    assert.equal(secretDwords(ram), 0);
    assert.ok(after.slice(0, 10).every(Boolean) && after.slice(300).every(Boolean), "zeroed in place: still resident");
    assert.ok(after.slice(10, 300).every((r) => !r), "the others stay given back");
    assert.ok(ram.every((b) => b === 0), "guest RAM is all zeros");
  } finally {
    assert.deepEqual(shell.destroy().outstanding, []);
  }
});

test("KVM: through the pool, a guest after the secret guest in the same shell sees exactly what a guest in a new VM sees", { skip: noKvm }, async () => {
  const run = async (cmdline: string): Promise<{ warm: boolean; status: number; output: string }> => {
    const chunks: Uint8Array[] = [];
    const vm = await Vm.boot(image, { memory: 2 * MiB, cmdline, console: (b) => void chunks.push(b) });
    const r = await vm.exited;
    assert.equal(r.reason, "exit", r.detail);
    return { warm: vm.warm, status: r.status, output: Buffer.concat(chunks).toString("utf8") };
  };
  const inNew = await run("scan"); // no pool yet: a VM made for it
  assert.equal(inNew.warm, false);
  const lines = inNew.output.trimEnd().split("\n");
  assert.equal(lines.length, SCAN_FIELDS.length);
  assert.equal(lines.at(-1), "00000000", "no secret in a new VM");

  const pool = await Vm.pool({ size: 1, memory: 2 * MiB });
  try {
    assert.equal(pool.ready, 1);
    const secret = await run("secret");
    assert.deepEqual([secret.warm, secret.status], [true, 5]);
    const after = await run("scan"); // the only shell: the one the secret guest used, reset
    assert.equal(after.warm, true);
    assert.equal(after.status, 6);
    const got = after.output.trimEnd().split("\n");
    SCAN_FIELDS.forEach((f, i) => assert.equal(got[i], lines[i], `${f}: ${got[i]} in the reused shell, ${lines[i]} in a new VM`));
    // The same guest again: the shell loaded it ahead, right after its reset (vcpu-worker.ts).
    const again = await run("scan");
    assert.deepEqual([again.warm, again.status], [true, 6]);
    const got2 = again.output.trimEnd().split("\n");
    SCAN_FIELDS.forEach((f, i) => assert.equal(got2[i], lines[i], `${f}: ${got2[i]} in the shell prepared ahead, ${lines[i]} in a new VM`));
  } finally {
    await pool.close();
  }
  assert.equal(pool.ready, 0);
  await Vm.settled();
});
