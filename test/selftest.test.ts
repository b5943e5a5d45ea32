// The guest test image: every registered guest test runs at boot and reports over the console.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boot, parseKtest } from "./lib/boot.ts";

test("guest tests pass inside the image", async () => {
  const r = await boot("selftest", { test: true, timeoutMs: 120_000 });
  const k = parseKtest(r.output);
  assert.ok(k.summary, "the test library printed a summary:\n" + r.output);
  assert.deepEqual(k.failed, [], "failing guest tests");
  assert.equal(k.summary.failed, 0);
  assert.ok(k.summary.passed >= 10, `only ${k.summary.passed} guest tests ran`);
  assert.equal(k.begin, k.summary.passed + k.summary.failed, "every announced test reported");
  assert.equal(r.status, 0, r.output);
});
