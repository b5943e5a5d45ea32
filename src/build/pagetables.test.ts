import { test } from "node:test";
import { strict as assert } from "node:assert";
import { KilnError } from "../errors.ts";
import { PF_R, PF_W, PF_X } from "./elf.ts";
import { buildPageTables, PAGE, PAGETABLE_BYTES, PTE_NX, PTE_P, PTE_PCD, PTE_PS, PTE_PWT, PTE_RW, PTE_US, type LoadSegment } from "./pagetables.ts";

const TABLES = 0x105000;
const entry = (buf: Buffer, page: number, index: number) => buf.readBigUInt64LE(page * PAGE + index * 8);
const addrOf = (e: bigint) => e & 0x000ffffffffff000n;

// A typical image: text 0x100000-0x102fff, rodata 0x103000-0x103fff, data+tables+bss 0x104000-0x10afff.
const image: LoadSegment[] = [
  { vaddr: 0x100000, memsz: 0x2a00, flags: PF_R | PF_X },
  { vaddr: 0x103000, memsz: 0x800, flags: PF_R },
  { vaddr: 0x104000, memsz: 0x6100, flags: PF_R | PF_W },
];

test("the tables are 5 pages and the upper levels chain to each other at the given address", () => {
  const t = buildPageTables(image, TABLES);
  assert.equal(t.length, PAGETABLE_BYTES);
  const dir = PTE_P | PTE_RW | PTE_US;
  assert.equal(entry(t, 0, 0), BigInt(TABLES + PAGE) | dir, "PML4[0] -> PDPT");
  for (let i = 1; i < 512; i++) assert.equal(entry(t, 0, i), 0n, `PML4[${i}] empty`);
  assert.equal(entry(t, 1, 0), BigInt(TABLES + 2 * PAGE) | dir, "PDPT[0] -> PD 0-1 GiB");
  assert.equal(entry(t, 1, 1), 0n, "1-2 GiB not mapped");
  assert.equal(entry(t, 1, 2), 0n, "2-3 GiB not mapped");
  assert.equal(entry(t, 1, 3), BigInt(TABLES + 3 * PAGE) | dir, "PDPT[3] -> PD 3-4 GiB");
  assert.equal(entry(t, 1, 4), 0n);
  assert.equal(entry(t, 2, 0), BigInt(TABLES + 4 * PAGE) | dir, "PD[0] -> PT 0-2 MiB");
  for (const e of [entry(t, 0, 0), entry(t, 1, 0), entry(t, 1, 3), entry(t, 2, 0)]) {
    assert.equal(e & PTE_NX, 0n, "no NX on directory entries: the leaves decide");
    assert.equal(e & PTE_PS, 0n);
  }
});

test("page 0 is not present so null pointers fault", () => {
  const t = buildPageTables(image, TABLES);
  assert.equal(entry(t, 4, 0), 0n);
});

test("image pages get their segment's permissions, other low pages are writable NX", () => {
  const t = buildPageTables(image, TABLES);
  const pte = (addr: number) => entry(t, 4, addr / PAGE);
  const rx = PTE_P | PTE_US;
  const ro = PTE_P | PTE_US | PTE_NX;
  const rw = PTE_P | PTE_US | PTE_RW | PTE_NX;
  for (const a of [0x100000, 0x101000, 0x102000]) assert.equal(pte(a), BigInt(a) | rx, `text ${a.toString(16)} read-only executable`);
  assert.equal(pte(0x103000), BigInt(0x103000) | ro, "rodata read-only NX");
  for (const a of [0x104000, 0x105000, 0x10a000]) assert.equal(pte(a), BigInt(a) | rw, `data ${a.toString(16)} writable NX`);
  for (const a of [0x1000, 0x9f000, 0xff000, 0x10b000, 0x1ff000]) assert.equal(pte(a), BigInt(a) | rw, `free page ${a.toString(16)} writable NX`);
  for (let p = 1; p < 512; p++) {
    const e = entry(t, 4, p);
    assert.equal(addrOf(e), BigInt(p * PAGE), "identity mapped");
    assert.ok(e & PTE_US, "every present entry is user-accessible");
    assert.ok(!(e & PTE_RW) || e & PTE_NX, `W^X at page ${p}`);
  }
});

test("2 MiB-1 GiB is 2 MiB pages, writable NX, cached", () => {
  const t = buildPageTables(image, TABLES);
  for (let i = 1; i < 512; i++) {
    assert.equal(entry(t, 2, i), BigInt(i * 0x200000) | PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_NX, `PD[${i}]`);
  }
});

test("3-4 GiB is 2 MiB pages, writable NX, uncached, covering the LAPIC", () => {
  const t = buildPageTables(image, TABLES);
  for (let i = 0; i < 512; i++) {
    const e = entry(t, 3, i);
    assert.equal(e, BigInt(0xc0000000 + i * 0x200000) | PTE_P | PTE_RW | PTE_US | PTE_PS | PTE_PCD | PTE_PWT | PTE_NX);
  }
  const lapic = entry(t, 3, (0xfee00000 - 0xc0000000) / 0x200000);
  assert.equal(addrOf(lapic), 0xfee00000n);
});

test("zero-size segments are ignored and the output is deterministic", () => {
  const a = buildPageTables([...image, { vaddr: 0, memsz: 0, flags: PF_R }], TABLES);
  assert.deepEqual(a, buildPageTables(image, TABLES));
});

test("an image reaching past 2 MiB is refused", () => {
  assert.throws(() => buildPageTables([{ vaddr: 0x100000, memsz: 0x100001, flags: PF_R | PF_W }], TABLES), (e: unknown) => e instanceof KilnError && /past 2 MiB/.test(e.message));
  // Exactly up to 2 MiB is fine.
  buildPageTables([{ vaddr: 0x100000, memsz: 0x100000, flags: PF_R | PF_W }], TABLES);
});

test("a segment in page 0, a W+X segment, shared pages with different rights and bad table addresses are refused", () => {
  assert.throws(() => buildPageTables([{ vaddr: 0x800, memsz: 0x10, flags: PF_R }], TABLES), /page 0/);
  assert.throws(() => buildPageTables([{ vaddr: 0x100000, memsz: 0x10, flags: PF_R | PF_W | PF_X }], TABLES), /W\^X/);
  assert.throws(
    () => buildPageTables([{ vaddr: 0x100000, memsz: 0x1800, flags: PF_R | PF_X }, { vaddr: 0x101800, memsz: 0x10, flags: PF_R | PF_W }], TABLES),
    /share the page at 0x101000/,
  );
  // Same rights sharing a page is harmless.
  buildPageTables([{ vaddr: 0x100000, memsz: 0x1800, flags: PF_R }, { vaddr: 0x101800, memsz: 0x10, flags: PF_R }], TABLES);
  assert.throws(() => buildPageTables(image, TABLES + 8), /not 4 KiB aligned/);
  assert.throws(() => buildPageTables(image, 0x1ff000), /outside/);
});
