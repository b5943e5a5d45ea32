import { test } from "node:test";
import { strict as assert } from "node:assert";
import { formatConsoleTable, parseConsoleLine, type ConsoleBenchResult } from "./console.ts";

test("parses the guest's console-bench line, and nothing else", () => {
  assert.deepEqual(parseConsoleLine("x\nconsole-bench: backend=virtio lines=10 bytes=64 cycles=12345 tsc_khz=2596000\ny"), {
    backend: "virtio", lines: 10, bytes: 64, cycles: 12345, tscKhz: 2596000,
  });
  assert.equal(parseConsoleLine("console-bench: backend=uart lines=1 bytes=1 cycles=1 tsc_khz=1"), undefined);
});

test("the table names both backends and the ratio", () => {
  const b = (us: number) => ({ us_per_line: us, ns_per_byte: us * 1000 / 64, spread_us_per_line: { min: us, median: us, max: us } });
  const r: ConsoleBenchResult = { lines: 100, line_bytes: 64, runs: 1, runner: "vmm", virtio: { ...b(50), chains: 101, notifies: 101 }, serial: b(5000), speedup: 100 };
  const t = formatConsoleTable(r);
  assert.match(t, /^console output on vmm: 100 lines of 64 bytes, 1 run/);
  assert.match(t, /virtio-console +50 .* 101 +101$/m);
  assert.match(t, /16550 +5000 /m);
  assert.match(t, /100x the 16550's speed/);
});
