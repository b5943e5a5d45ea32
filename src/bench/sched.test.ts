import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { benchSched, formatSchedTable, parseSchedLine, type SchedBenchResult } from "./sched.ts";
import { testRunner } from "../run/index.ts";

test("parseSchedLine reads the guest's line and rejects malformed ones", () => {
  const out = ["kiln: boot x", "BENCH sched switch_cycles=112 create_join_cycles=4011 wakeup_latency_us=145.016", "after"].join("\n");
  assert.deepEqual(parseSchedLine(out), { switch_cycles: 112, create_join_cycles: 4011, wakeup_latency_us: 145.016 });
  assert.deepEqual(parseSchedLine("BENCH sched switch_cycles=1 create_join_cycles=2 wakeup_latency_us=3"), {
    switch_cycles: 1,
    create_join_cycles: 2,
    wakeup_latency_us: 3,
  });
  assert.equal(parseSchedLine("BENCH sched switch_cycles=x create_join_cycles=2 wakeup_latency_us=3"), undefined);
  assert.equal(parseSchedLine("noise BENCH sched switch_cycles=1 create_join_cycles=2 wakeup_latency_us=3"), undefined);
  assert.equal(parseSchedLine(""), undefined);
});

test("formatSchedTable shows min/median/max of every measure and the TCG caveat", () => {
  const r: SchedBenchResult = {
    switch_cycles: 90,
    create_join_cycles: 4000,
    wakeup_latency_us: 12.5,
    spread: {
      switch_cycles: { min: 80, median: 90, max: 120 },
      create_join_cycles: { min: 3900, median: 4000, max: 4500 },
      wakeup_latency_us: { min: 10.1, median: 12.5, max: 30 },
    },
    runs: 3,
    runner: "qemu",
    accel: "tcg",
  };
  const t = formatSchedTable(r);
  assert.match(t, /^context switch \(cycles\)\s+80\s+90\s+120\s+-\s+< 100 on KVM$/m);
  assert.match(t, /^thread create \+ join \(cycles\)\s+3900\s+4000\s+4500\s+-\s*$/m);
  assert.match(t, /^timer wake-up latency \(us\)\s+10\.1\s+12\.5\s+30\s+-\s*$/m);
  const h = formatSchedTable({ ...r, host: { switch_cycles: 7, create_join_cycles: 8000, wakeup_latency_us: 110.5 } });
  assert.match(h, /^context switch \(cycles\)\s+80\s+90\s+120\s+7\s+< 100 on KVM$/m);
  assert.match(h, /^timer wake-up latency \(us\)\s+10\.1\s+12\.5\s+30\s+110\.5\s*$/m);
  assert.match(h, /host native: the same scheduler code/);
  assert.match(t, /qemu \(tcg\), 3 runs/);
  assert.match(t, /Under TCG/);
  assert.doesNotMatch(formatSchedTable({ ...r, accel: "kvm" }), /Under TCG/);
});

const hasQemu = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;

test("benchSched builds bench-sched, boots it and returns positive medians", { skip: !hasQemu && "qemu-system-x86_64 not installed", timeout: 300_000 }, async () => {
  const logs: string[] = [];
  const r = await benchSched({ runs: 2, runner: testRunner(), log: (s) => logs.push(s) });
  assert.equal(r.runs, 2);
  assert.ok(r.switch_cycles > 0 && r.create_join_cycles > r.switch_cycles, JSON.stringify(r));
  // A wake-up never comes before its deadline and, even under TCG, within 10 ms.
  assert.ok(r.wakeup_latency_us >= 0 && r.wakeup_latency_us < 10_000, JSON.stringify(r));
  assert.ok(r.spread.switch_cycles.min <= r.switch_cycles && r.switch_cycles <= r.spread.switch_cycles.max);
  assert.ok(logs.some((l) => l.startsWith("run 2/2:")), logs.join("\n"));
  const json = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
  for (const k of ["switch_cycles", "create_join_cycles", "wakeup_latency_us"]) assert.equal(typeof json[k], "number", k);
  assert.ok(r.host, "the host-native measurement ran");
  assert.ok(r.host.switch_cycles > 0 && r.host.create_join_cycles > 0, JSON.stringify(r.host));
});
