import { test } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { GuestMemory, GuestMemoryError } from "./guest-memory.ts";
import { inspectImage, loadImage, placeModule } from "./loader.ts";
import { MODLIST_ADDR, START_INFO_ADDR } from "./layout.ts";
import { MODLIST_ENTRY, START_INFO } from "./start-info.ts";
import { VmConfigError, VmImageError } from "./errors.ts";
import { buildElf, goodElfSpec } from "./testing/elf-builder.ts";
import { decodeRegs, decodeSregs, encodeRegs, encodeSregs, formatRegisters, pvhRegs, pvhSregs } from "./boot-state.ts";
import { SIZE } from "./abi.ts";
import { runC } from "./testing/cprobe.ts";

const MiB = 1024 * 1024;

test("loads segments, zeroes .bss, writes boot info", () => {
  const mem = new GuestMemory(new Uint8Array(2 * MiB).fill(0xee));
  const loaded = loadImage(buildElf(goodElfSpec()), "img.elf", mem, "a b");
  assert.equal(loaded.entry, 0x100010);
  assert.equal(loaded.startInfo, START_INFO_ADDR);
  assert.deepEqual([...mem.bytes.subarray(0x100000, 0x100040)], new Array(64).fill(0x90));
  assert.deepEqual([...mem.bytes.subarray(0x101000, 0x101004)], [1, 2, 3, 4]);
  assert.ok(mem.bytes.subarray(0x101004, 0x103000).every((b) => b === 0), ".bss zeroed");
  assert.equal(mem.bytes[0x103000], 0xee, "nothing written past the segment");
});

test("an image too big for memory is refused before anything is written", () => {
  const mem = new GuestMemory(new Uint8Array(2 * MiB).fill(0xee));
  const spec = goodElfSpec();
  spec.segments[1]!.memsz = 2 * MiB;
  assert.throws(() => loadImage(buildElf(spec), "img.elf", mem, ""), VmImageError);
  assert.ok(mem.bytes.every((b) => b === 0xee));
});

test("guest memory accesses are bounds-checked", () => {
  const mem = new GuestMemory(new Uint8Array(4096));
  assert.throws(() => mem.write("x", 4095, new Uint8Array(2)), GuestMemoryError);
  assert.throws(() => mem.read("x", -1, 1), GuestMemoryError);
  assert.throws(() => mem.fill("x", 2 ** 60, 1), GuestMemoryError);
  assert.throws(() => mem.view("x", 0, 4097), /outside the 4096-byte guest RAM/);
  mem.write("x", 4094, new Uint8Array([1, 2]));
  assert.deepEqual([...mem.read("x", 4094, 2)], [1, 2]);
});

test("PVH vCPU state encodes into struct kvm_regs/kvm_sregs as C reads them", () => {
  const base = decodeSregs(new Uint8Array(SIZE.sregs));
  base.apicBase = 0xfee00900n;
  const sregsBuf = encodeSregs(pvhSregs(base));
  const regsBuf = encodeRegs(pvhRegs(0x100010, 0x1000));
  assert.deepEqual(decodeSregs(sregsBuf), pvhSregs(base));
  assert.deepEqual(decodeRegs(regsBuf), pvhRegs(0x100010, 0x1000));
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-regs-"));
  try {
    writeFileSync(path.join(dir, "s.bin"), sregsBuf);
    writeFileSync(path.join(dir, "r.bin"), regsBuf);
    const out = runC(`
#include <linux/kvm.h>
#include <stdio.h>
int main(void) {
  struct kvm_sregs s; struct kvm_regs r;
  FILE *f = fopen(${JSON.stringify(path.join(dir, "s.bin"))}, "rb");
  if (!f || fread(&s, sizeof s, 1, f) != 1) return 1;
  f = fopen(${JSON.stringify(path.join(dir, "r.bin"))}, "rb");
  if (!f || fread(&r, sizeof r, 1, f) != 1) return 1;
  printf("rip=%llx rbx=%llx rflags=%llx\\n", r.rip, r.rbx, r.rflags);
  printf("cs sel=%x type=%u p=%u db=%u s=%u l=%u g=%u limit=%x\\n", s.cs.selector, s.cs.type, s.cs.present, s.cs.db, s.cs.s, s.cs.l, s.cs.g, s.cs.limit);
  printf("ss sel=%x type=%u tr sel=%x type=%u limit=%x ldt unusable=%u\\n", s.ss.selector, s.ss.type, s.tr.selector, s.tr.type, s.tr.limit, s.ldt.unusable);
  printf("cr0=%llx cr4=%llx efer=%llx apic=%llx gdt=%llx/%u idt=%u\\n", s.cr0, s.cr4, s.efer, s.apic_base, s.gdt.base, s.gdt.limit, s.idt.limit);
  return 0;
}
`);
    assert.equal(
      out,
      "rip=100010 rbx=1000 rflags=2\n" +
        "cs sel=8 type=11 p=1 db=1 s=1 l=0 g=1 limit=ffffffff\n" +
        "ss sel=10 type=3 tr sel=18 type=11 limit=67 ldt unusable=1\n" +
        "cr0=11 cr4=0 efer=0 apic=fee00900 gdt=500/31 idt=0\n",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const dump = formatRegisters(pvhRegs(0x100010, 0x1000), pvhSregs(base)).join("\n");
  assert.match(dump, /rip=0x0000000000100010/);
  assert.match(dump, /cr0=0x0000000000000011/);
});

test("an initrd goes at the top of RAM, page-aligned, above the image, and is listed as module 0", () => {
  const mem = new GuestMemory(new Uint8Array(4 * MiB));
  const initrd = new Uint8Array(5000).fill(0x5a);
  loadImage(buildElf(goodElfSpec()), "img.elf", mem, "", initrd);
  const at = 4 * MiB - 8192; // 5000 bytes rounded down to a page boundary from the top
  assert.ok(mem.bytes.subarray(at, at + 5000).every((b) => b === 0x5a));
  const si = new DataView(mem.bytes.buffer, START_INFO_ADDR);
  assert.equal(si.getUint32(START_INFO.nrModules, true), 1);
  const ml = Number(si.getBigUint64(START_INFO.modlistPaddr, true));
  assert.equal(ml, MODLIST_ADDR);
  const e = new DataView(mem.bytes.buffer, ml);
  assert.equal(Number(e.getBigUint64(MODLIST_ENTRY.paddr, true)), at);
  assert.equal(Number(e.getBigUint64(MODLIST_ENTRY.size, true)), 5000);
  // below 1 GiB whatever the memory size: the guest maps only that much
  const image = inspectImage(buildElf(goodElfSpec()), "img.elf", 2048 * MiB);
  assert.equal(placeModule(image, 2048 * MiB, 4096).paddr, 1024 * MiB - 4096);
});

test("an initrd that does not fit above the image says how much memory it needs", () => {
  const image = inspectImage(buildElf(goodElfSpec()), "img.elf", 2 * MiB);
  assert.throws(() => placeModule(image, 2 * MiB, 1.5 * MiB), (e: unknown) => e instanceof VmConfigError && /option initrd: .* do not fit .*at least \d+ MiB/.test(e.message));
  assert.throws(() => placeModule(image, 2 * MiB, 0), VmConfigError);
});
