import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeQemuExit, qemuCodeFor, statusFromConsole } from "./exit-status.ts";

test("qemuCodeFor follows isa-debug-exit and wraps at 8 bits", () => {
  assert.equal(qemuCodeFor(0), 1);
  assert.equal(qemuCodeFor(1), 3);
  assert.equal(qemuCodeFor(127), 255);
  assert.equal(qemuCodeFor(128), 1); // the top bit is lost: why the console line is needed
  assert.equal(qemuCodeFor(255), 255);
});

test("statusFromConsole takes the last exit line only, whole lines only", () => {
  assert.equal(statusFromConsole("hello\nkiln: exit 3\n"), 3);
  assert.equal(statusFromConsole("kiln: exit 1\nkiln: exit 255\n"), 255);
  assert.equal(statusFromConsole("say kiln: exit 4\n"), undefined);
  assert.equal(statusFromConsole("kiln: exit 256\n"), undefined);
  assert.equal(statusFromConsole("nothing\n"), undefined);
});

test("decodeQemuExit: a matching line and code is a guest exit", () => {
  assert.deepEqual(decodeQemuExit(1, null, "kiln: exit 0\n"), { kind: "guest-exit", status: 0 });
  assert.deepEqual(decodeQemuExit(255, null, "boom\nkiln: exit 255\n"), { kind: "guest-exit", status: 255 });
  assert.deepEqual(decodeQemuExit(1, null, "kiln: exit 128\n"), { kind: "guest-exit", status: 128 });
});

test("decodeQemuExit: QEMU failures are not mistaken for a guest status", () => {
  // QEMU's own errors exit 1, the same code as guest status 0: without the line it is an error.
  assert.equal(decodeQemuExit(1, null, "").kind, "qemu-error");
  assert.equal(decodeQemuExit(3, null, "kiln: exit 0\n").kind, "qemu-error");
  assert.equal(decodeQemuExit(null, "SIGKILL", "kiln: exit 0\n").kind, "qemu-error");
  assert.equal(decodeQemuExit(0, null, "kiln: exit 0\n").kind, "qemu-error");
});
