import { test } from "node:test";
import assert from "node:assert/strict";
import { lookup } from "./symbolize.ts";

const syms = [
  { addr: 0x1000n, size: 0x10n, name: "a" },
  { addr: 0x1010n, size: 0x0n, name: "b" },
  { addr: 0x2000n, size: 0x8n, name: "c" },
];

test("lookup finds the containing function", () => {
  assert.equal(lookup(syms, 0x1004n), "a+0x4");
  assert.equal(lookup(syms, 0x1010n), "b+0x0");
  assert.equal(lookup(syms, 0x1800n), "b+0x7f0"); // unknown size: nearest below
  assert.equal(lookup(syms, 0x2008n), undefined); // past c's end
  assert.equal(lookup(syms, 0x10n), undefined);
});

test("a return address just past a function's end belongs to that function", () => {
  // a ends at 0x1010 with a noreturn call: the return address 0x1010 is b's first byte.
  assert.equal(lookup(syms, 0x1010n, true), "a+0x10");
  assert.equal(lookup(syms, 0x1010n, false), "b+0x0");
  assert.equal(lookup(syms, 0x2008n, true), "c+0x8");
});
