import { test } from "node:test";
import assert from "node:assert/strict";
import { parseBootLine } from "./boot-line.ts";
import { summarize, quantile } from "./stats.ts";

test("parseBootLine computes microseconds from TSC stamps", () => {
  const s = parseBootLine("x\nkiln: boot entry_tsc=1000 main_tsc=301000 tsc_khz=3000000\nHello\n");
  assert.ok(s);
  assert.equal(s.guestBootUs, 100);
});

test("parseBootLine refuses nonsense", () => {
  assert.equal(parseBootLine("kiln: boot entry_tsc=5 main_tsc=4 tsc_khz=1000\n"), undefined);
  assert.equal(parseBootLine("kiln: boot entry_tsc=1 main_tsc=4 tsc_khz=0\n"), undefined);
  assert.equal(parseBootLine("no line"), undefined);
});

test("summaries", () => {
  assert.deepEqual(summarize([3, 1, 2]), { min: 1, median: 2, max: 3 });
  assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
});

test("the boot line's CPL-0 entry counts: shim calls by command and interrupts", () => {
  const s = parseBootLine("kiln: boot entry_tsc=1000 main_tsc=301000 tsc_khz=3000000 cpl0_shims=0,2,1,0,0,0,0,1 cpl0_irqs=3\n");
  assert.deepEqual(s?.cpl0Shims, [0, 2, 1, 0, 0, 0, 0, 1]);
  assert.equal(s?.cpl0Irqs, 3);
  assert.equal(parseBootLine("kiln: boot entry_tsc=1000 main_tsc=301000 tsc_khz=3000000\n")?.cpl0Shims, undefined);
});
