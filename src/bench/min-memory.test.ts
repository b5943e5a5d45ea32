import { test } from "node:test";
import { strict as assert } from "node:assert";
import { bisectMemory } from "./min-memory.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

test("bisection finds the least 4 KiB multiple that boots, in few boots", async () => {
  for (const need of [1 * MiB, 1 * MiB + 4 * KiB, 1300 * KiB, 3 * MiB - 4 * KiB, 8 * MiB]) {
    const asked: number[] = [];
    const got = await bisectMemory(1 * MiB, 8 * MiB, async (m) => (asked.push(m), m >= need));
    assert.equal(got, need);
    assert.ok(asked.every((m) => m % 4096 === 0), "only whole pages");
    assert.ok(asked.length <= 2 + Math.ceil(Math.log2((7 * MiB) / 4096)), `${asked.length} boots`);
  }
});

test("bisection: undefined when even the largest size does not boot; the bounds are rounded to pages", async () => {
  assert.equal(await bisectMemory(1 * MiB, 4 * MiB, async () => false), undefined);
  assert.equal(await bisectMemory(1 * MiB + 1, 2 * MiB + 100, async (m) => m >= 1 * MiB), 1 * MiB + 4096);
});
