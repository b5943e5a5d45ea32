// The stack's guest tests (tests/test_net.c over two stacks wired back to back, tests/pair.c)
// compiled for the host under ASan/UBSan and run there too: the same KTEST protocol, and leaks
// are errors. guest.test.ts runs them inside a test image.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { compileHost } from "./netns.ts";

const dir = mkdtempSync(path.join(tmpdir(), "kiln-net-ktest-"));
const exe = path.join(dir, "ktest");
test.after(() => rmSync(dir, { recursive: true, force: true }));

test("the guest tests compile for the host warning-free with ASan and UBSan", () => {
  compileHost(exe, ["test_net.c", "pair.c", "host/ktest_host.c"]);
});

test("the guest tests pass on the host, with no sanitizer report or leak", () => {
  const r = spawnSync(exe, [], {
    encoding: "utf8",
    env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1", UBSAN_OPTIONS: "print_stacktrace=1" },
  });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(r.stderr, "", r.stderr);
  assert.doesNotMatch(r.stdout, /^KTEST: fail/m, r.stdout);
  const m = /^KTEST: summary passed=(\d+) failed=0$/m.exec(r.stdout);
  assert.ok(m && Number(m[1]) >= 17, r.stdout);
  for (const t of ["simultaneous_open_and_close", "fast_retransmit_and_newreno_partial_ack", "keepalive_detects_a_dead_peer"])
    assert.match(r.stdout, new RegExp(`^KTEST: pass net\\.${t}$`, "m"));
});
