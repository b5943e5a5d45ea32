import { test } from "node:test";
import { strict as assert } from "node:assert";
import { decodeCpuid, encodeCpuid, tuneCpuid, TIMING_LEAF, type CpuidEntry } from "./cpuid.ts";
import { runC } from "./testing/cprobe.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const e = (fn: number, eax = 0, ecx = 0): CpuidEntry => ({ function: fn, index: 0, flags: 0, eax, ebx: 0, ecx, edx: 0 });

test("tuning sets TSC-deadline and adds the timing leaf under the KVM base leaf", () => {
  const table = [e(0, 0xd), e(1, 0x806f8, 0x80000000), e(0x40000000, 0x40000001), e(0x40000001)];
  const t = tuneCpuid(table, { tscDeadline: true, tscKhz: 2_100_000 });
  assert.equal(t.find((x) => x.function === 1)!.ecx, 0x81000000);
  assert.equal(t.find((x) => x.function === 0x40000000)!.eax, TIMING_LEAF);
  assert.deepEqual(t.find((x) => x.function === TIMING_LEAF), { function: TIMING_LEAF, index: 0, flags: 0, eax: 2_100_000, ebx: 1_000_000, ecx: 0, edx: 0 });
  assert.equal(table[1]!.ecx, 0x80000000, "input untouched");
  const plain = tuneCpuid(table, { tscDeadline: false });
  assert.deepEqual(plain, table);
  assert.equal(tuneCpuid([e(1)], { tscDeadline: false, tscKhz: 1000 }).length, 1, "no hypervisor leaves: nothing added");
});

test("encoded table reads back, and C sees struct kvm_cpuid2 the same way", () => {
  const entries = [e(1, 0x11, 0x22), { ...e(7, 1, 2), index: 0, flags: 1, ebx: 0xdeadbeef, edx: 0xffffffff }];
  const buf = encodeCpuid(entries);
  assert.deepEqual(decodeCpuid(buf), entries);
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-cpuid-"));
  try {
    writeFileSync(path.join(dir, "c.bin"), buf);
    const out = runC(`
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  static unsigned char raw[4096];
  FILE *f = fopen(${JSON.stringify(path.join(dir, "c.bin"))}, "rb");
  if (!f) return 1;
  size_t n = fread(raw, 1, sizeof raw, f);
  (void)n;
  struct kvm_cpuid2 *c = (struct kvm_cpuid2 *)raw;
  for (unsigned i = 0; i < c->nent; i++)
    printf("%x %u %u %x %x %x %x\\n", c->entries[i].function, c->entries[i].index, c->entries[i].flags,
           c->entries[i].eax, c->entries[i].ebx, c->entries[i].ecx, c->entries[i].edx);
  return 0;
}
`);
    assert.equal(out, "1 0 0 11 0 22 0\n7 0 1 1 deadbeef 2 ffffffff\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => decodeCpuid(buf.subarray(0, 20)), /claims 2 entries/);
});
