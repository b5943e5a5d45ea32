import { test } from "node:test";
import { strict as assert } from "node:assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { GuestMemory } from "./guest-memory.ts";
import { CMDLINE_ADDR, CMDLINE_MAX, E820, GDT_ADDR, MEMMAP_ADDR, START_INFO_ADDR, memoryMap } from "./layout.ts";
import { HVM_START_MAGIC, MEMMAP_ENTRY, MEMMAP_MAX, MODLIST_ENTRY, START_INFO, encodeCmdline, writeBootInfo } from "./start-info.ts";
import { VmConfigError } from "./errors.ts";
import { probeValues, runC } from "./testing/cprobe.ts";

// Xen's public header (xen/include/public/arch-x86/hvm/start_info.h), which Debian does not ship.
const XEN_STRUCTS = `
#include <stdint.h>
struct hvm_start_info {
    uint32_t magic; uint32_t version; uint32_t flags; uint32_t nr_modules;
    uint64_t modlist_paddr; uint64_t cmdline_paddr; uint64_t rsdp_paddr;
    uint64_t memmap_paddr; uint32_t memmap_entries; uint32_t reserved;
};
struct hvm_memmap_table_entry { uint64_t addr; uint64_t size; uint32_t type; uint32_t reserved; };
struct hvm_modlist_entry { uint64_t paddr; uint64_t size; uint64_t cmdline_paddr; uint64_t reserved; };
`;

test("start info and memmap entry layouts match the C structs", () => {
  const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  const exprs: Record<string, string> = {};
  for (const [k, v] of Object.entries(START_INFO)) {
    void v;
    exprs[`START_INFO.${k}`] = k === "size" ? "sizeof(struct hvm_start_info)" : `offsetof(struct hvm_start_info, ${snake(k)})`;
  }
  for (const k of Object.keys(MEMMAP_ENTRY))
    exprs[`MEMMAP_ENTRY.${k}`] = k === "entrySize" ? "sizeof(struct hvm_memmap_table_entry)" : `offsetof(struct hvm_memmap_table_entry, ${k})`;
  for (const k of Object.keys(MODLIST_ENTRY))
    exprs[`MODLIST_ENTRY.${k}`] = k === "entrySize" ? "sizeof(struct hvm_modlist_entry)" : `offsetof(struct hvm_modlist_entry, ${snake(k)})`;
  const c = probeValues([], XEN_STRUCTS, exprs);
  for (const [k, v] of Object.entries(START_INFO)) assert.equal(c.get(`START_INFO.${k}`), BigInt(v), k);
  for (const [k, v] of Object.entries(MEMMAP_ENTRY)) assert.equal(c.get(`MEMMAP_ENTRY.${k}`), BigInt(v), k);
  for (const [k, v] of Object.entries(MODLIST_ENTRY)) assert.equal(c.get(`MODLIST_ENTRY.${k}`), BigInt(v), k);
});

test("a C reader of the low pages sees the start info, memory map and command line", () => {
  const memory = 8 * 1024 * 1024;
  const mem = new GuestMemory(new Uint8Array(memory).fill(0xaa));
  const addr = writeBootInfo(mem, "boot.stats=1 -- héllo world");
  assert.equal(addr, START_INFO_ADDR);
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-si-"));
  try {
    const blob = path.join(dir, "low.bin");
    writeFileSync(blob, mem.bytes.subarray(0, 0x4000));
    const out = runC(`${XEN_STRUCTS}
#include <stdio.h>
static unsigned char low[0x4000];
int main(void) {
  FILE *f = fopen(${JSON.stringify(blob)}, "rb");
  if (!f || fread(low, 1, sizeof low, f) != sizeof low) return 1;
  const struct hvm_start_info *si = (const void *)(low + ${START_INFO_ADDR});
  printf("magic=%x version=%u flags=%u mods=%u rsdp=%llu\\n", si->magic, si->version, si->flags, si->nr_modules, (unsigned long long)si->rsdp_paddr);
  printf("cmdline=%s\\n", (const char *)(low + si->cmdline_paddr));
  const struct hvm_memmap_table_entry *e = (const void *)(low + si->memmap_paddr);
  for (unsigned i = 0; i < si->memmap_entries; i++)
    printf("map %llx %llx %u %u\\n", (unsigned long long)e[i].addr, (unsigned long long)e[i].size, e[i].type, e[i].reserved);
  return 0;
}
`);
    assert.equal(
      out,
      [
        `magic=${HVM_START_MAGIC.toString(16)} version=1 flags=0 mods=0 rsdp=0`,
        "cmdline=boot.stats=1 -- héllo world",
        "map 0 4000 2 0",
        `map 4000 9c000 ${E820.RAM} 0`,
        `map 100000 ${(memory - 0x100000).toString(16)} 1 0`,
        "",
      ].join("\n"),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The boot GDT's flat code descriptor is in place, and the cmdline area past the NUL is zeroed.
  assert.equal(new DataView(mem.bytes.buffer).getBigUint64(GDT_ADDR + 8, true), 0x00cf9b000000ffffn);
  assert.equal(mem.bytes[CMDLINE_ADDR + CMDLINE_MAX - 1], 0);
  assert.equal(mem.bytes[MEMMAP_ADDR + 3 * MEMMAP_ENTRY.entrySize], 0);
});

test("memory map covers RAM and fits", () => {
  const map = memoryMap(16 * 1024 * 1024);
  assert.ok(map.length <= MEMMAP_MAX);
  assert.equal(map.at(-1)!.addr + map.at(-1)!.size, 16 * 1024 * 1024);
});

test("command line refusals", () => {
  assert.throws(() => encodeCmdline("a\0b"), VmConfigError);
  assert.throws(() => encodeCmdline("x".repeat(CMDLINE_MAX)), /is 8192 bytes, the limit is 8191/);
  assert.equal(encodeCmdline("x".repeat(CMDLINE_MAX - 1)).length, CMDLINE_MAX);
  assert.deepEqual([...encodeCmdline("")], [0]);
});
