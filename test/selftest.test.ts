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
  // The network stack's tests (kernel/lib/net/tests/test_net.c) are among them.
  for (const t of ["net.handshake_data_close_time_wait", "net.simultaneous_open_and_close", "net.fast_retransmit_and_newreno_partial_ack"])
    assert.ok(k.passed.includes(t), `guest test ${t} did not pass:\n${r.output}`);
  // Pipes (kernel/lib/pipe/tests/test_pipe.c), with a second thread as the other end.
  for (const t of ["pipe.blocking_large_transfer", "pipe.blocked_ends_see_the_other_end_close", "pipe.nonblocking_and_atomic_writes"])
    assert.ok(k.passed.includes(t), `guest test ${t} did not pass:\n${r.output}`);
  // Loopback (net-ipv4's local delivery, net_default without a NIC) and the socket calls'
  // internals (kernel/lib/posix-socket/tests/test_socket.c).
  for (const t of ["net.loopback_delivers_locally_and_never_touches_the_wire", "net.default_stack_is_loopback_without_a_device",
    "posix_socket.accept_with_no_free_descriptor_keeps_the_connection", "posix_socket.bad_pointers_are_efault_and_lose_nothing",
    "posix_socket.poll_kick_and_idle_drive_the_stack"])
    assert.ok(k.passed.includes(t), `guest test ${t} did not pass:\n${r.output}`);
  assert.equal(r.status, 0, r.output);
});

test("alloc.stats=1 prints every allocator's statistics at exit (boot's exit hooks), and only then", async () => {
  const withStats = await boot("selftest", { params: ["alloc.stats=1"] });
  assert.equal(withStats.status, 0, withStats.output);
  assert.match(withStats.output, /^alloc: tlsf \(default\) in_use=\d+ peak=\d+ .*failures=\d+ .*\nkiln: exit 0$/m);
  const without = await boot("selftest");
  assert.equal(without.status, 0, without.output);
  assert.doesNotMatch(without.output, /^alloc: /m);
});
