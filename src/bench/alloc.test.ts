import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { benchAlloc, formatAllocTable, opsPerSec, parseBenchLines, ALLOCATORS, WORKLOADS, type AllocBenchResult } from "./alloc.ts";

test("parseBenchLines reads the guest's lines and ignores the rest", () => {
  const out = [
    "kiln: boot entry_tsc=1 main_tsc=2 tsc_khz=3",
    "BENCH alloc workload=small ops=200542 cycles=189707574 ns=90490429",
    "BENCH alloc workload=mixed ops=10 cycles=0 ns=0",
    "BENCH alloc workload=bad ops=x cycles=1 ns=1",
    "noise BENCH alloc workload=pages ops=1 cycles=1 ns=1",
  ].join("\n");
  const lines = parseBenchLines(out);
  assert.deepEqual(lines, [
    { workload: "small", ops: 200542, cycles: 189707574, ns: 90490429 },
    { workload: "mixed", ops: 10, cycles: 0, ns: 0 },
  ]);
  assert.equal(Math.round(opsPerSec(lines[0]!)), 2216168);
  assert.equal(opsPerSec(lines[1]!), 0);
});

function fake(): AllocBenchResult {
  const rates = { region: 3e6, buddy: 2e6, tlsf: 1.5e6, glibc: 2e6 };
  const per = Object.fromEntries(WORKLOADS.map((w) => [w, { ...rates }])) as AllocBenchResult["workloads"];
  return {
    workloads: per,
    host: per,
    boot_us: { region: 100, buddy: 150, tlsf: 105 },
    init_ns: { region: 20, buddy: 9000, tlsf: 700 },
    runs: 3,
    boot_runs: 9,
    runner: "qemu",
    accel: "tcg",
    memory: { throughput: 128 << 20, boot: 32 << 20 },
  };
}

test("formatAllocTable shows every workload, the TLSF/glibc ratio and boot ratios", () => {
  const t = formatAllocTable(fake());
  for (const w of WORKLOADS) assert.match(t, new RegExp(`^${w}\\s`, "m"));
  assert.match(t, /^small\s+3\.00M\s+2\.00M\s+1\.50M\s+2\.00M\s+0\.75$/m);
  assert.match(t, /^buddy\s+150\s+1\.50\s+9000$/m);
  assert.match(t, /under TCG/);
  assert.match(t, /median of 9/);
});

const hasQemu = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;

test("benchAlloc builds and runs all three allocators and the host reference", { skip: !hasQemu && "qemu-system-x86_64 not installed", timeout: 300_000 }, async () => {
  const logs: string[] = [];
  const r = await benchAlloc({ runs: 1, bootRuns: 2, log: (s) => logs.push(s) });
  for (const w of WORKLOADS) {
    for (const a of [...ALLOCATORS, "glibc"] as const) {
      assert.ok(r.workloads[w][a] > 0, `guest ${w} ${a}`);
      assert.ok(r.host[w][a] > 0, `host ${w} ${a}`);
    }
  }
  for (const a of ALLOCATORS) {
    assert.ok(r.boot_us[a] > 0, `boot ${a}`);
    assert.ok(r.init_ns[a] > 0, `init ${a}`);
  }
  // JSON shape of the issue: workloads -> name -> allocator -> ops/s, boot_us -> allocator.
  const json = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
  assert.ok(typeof json.workloads === "object" && typeof json.boot_us === "object");
  assert.ok(logs.some((l) => l.includes("alloc-tlsf run 1/1")));
  assert.ok(logs.some((l) => l.startsWith("boot 2/2: region ")));
  assert.equal(r.boot_runs, 2);
});
