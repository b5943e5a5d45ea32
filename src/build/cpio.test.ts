import { test } from "node:test";
import assert from "node:assert/strict";
import { S_IFDIR, S_IFLNK, S_IFREG, writeNewc } from "./cpio.ts";

const empty = new Uint8Array(0);

test("newc layout: 110-byte header in hex, name NUL-padded to 4, data padded to 4, a trailer", () => {
  const a = writeNewc([{ name: "f", mode: S_IFREG | 0o644, mtime: 0x5f5e100, data: Buffer.from("abcde") }]);
  const h = a.subarray(0, 110).toString("ascii");
  assert.equal(h.slice(0, 6), "070701");
  const field = (i: number) => parseInt(h.slice(6 + 8 * i, 14 + 8 * i), 16);
  assert.deepEqual([field(0), field(1), field(4), field(5), field(6), field(11)], [1, S_IFREG | 0o644, 1, 0x5f5e100, 5, 2]);
  assert.equal(a.subarray(110, 112).toString("latin1"), "f\0");
  // 110 + 2 = 112, already aligned; data at 112, 5 bytes, padded to 120; the trailer follows
  assert.equal(a.subarray(112, 117).toString(), "abcde");
  assert.deepEqual([...a.subarray(117, 120)], [0, 0, 0]);
  assert.equal(a.subarray(120, 126).toString(), "070701");
  assert.equal(a.subarray(230, 241).toString("latin1"), "TRAILER!!!\0");
  assert.equal(a.length % 4, 0);
});

test("directories have two links, symlinks carry their target as data", () => {
  const a = writeNewc([
    { name: "d", mode: S_IFDIR | 0o755, mtime: 0, data: empty },
    { name: "d/l", mode: S_IFLNK | 0o777, mtime: 0, data: Buffer.from("target") },
  ]);
  const h2 = a.subarray(112).toString("latin1");
  assert.equal(parseInt(a.subarray(6 + 32, 14 + 32).toString(), 16), 2); // nlink of d
  assert.match(h2, /^070701/);
  assert.ok(h2.includes("d/l\0") && h2.includes("target"));
});

test("a value that does not fit a header field is refused", () => {
  assert.throws(() => writeNewc([{ name: "x", mode: S_IFREG, mtime: 2 ** 33, data: empty }]), /mtime .* does not fit/);
});
