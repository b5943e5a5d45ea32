// virtio-net's guest tests (test_virtio_net.c: the data path against a device the tests play)
// in a test build of apps/echo, booted without the device (so on either runner, and the stack's
// own tests there see no network device). Not in apps/selftest: its note would make the runners
// attach a virtio-net to every selftest run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { boot, parseKtest } from "../../../../../test/lib/boot.ts";

test("virtio-net's guest tests pass (apps/echo --test, no device attached)", async () => {
  const r = await boot("echo", { test: true, devices: [], timeoutMs: 120_000 });
  const k = parseKtest(r.output);
  assert.deepEqual(k.failed, [], r.output);
  for (const t of ["rx_fills_the_queue_and_hands_over_frames_without_copies", "rx_refuses_bad_ids_and_lengths_from_the_device", "tx_prepends_a_zero_header_suppresses_notifications_and_reclaims"])
    assert.ok(k.passed.includes(`virtio_net.${t}`), `virtio_net.${t} did not pass:\n${r.output}`);
  assert.equal(k.summary?.failed, 0);
  assert.equal(r.status, 0, r.output);
});
