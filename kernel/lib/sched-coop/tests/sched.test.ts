// Boots apps/bench-sched: its test image runs the scheduler's guest tests; "overflow" runs a
// thread into its stack's guard page, which must end in the fatal page-fault report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { buildApp } from "../../../../src/build/index.ts";
import { repoRoot } from "../../../../src/paths.ts";
import { runImage, testRunner } from "../../../../src/run/index.ts";

const appDir = path.join(repoRoot, "apps", "bench-sched");
const hasQemu = spawnSync("qemu-system-x86_64", ["--version"]).status === 0;
const skip = !hasQemu && "qemu-system-x86_64 not installed";

const EXPECTED = [
  "mmu.guard_and_unguard",
  "sched.current_name_and_join_errors",
  "sched.detached_threads_are_freed",
  "sched.idle_halts_instead_of_spinning",
  "sched.interrupt_wakes_waiting_thread",
  "sched.round_robin_order",
  "sched.sleep_accuracy",
  "sched.sleeper_wakes_while_others_yield",
  "sched.sleepers_wake_in_deadline_order",
  "sched.stack_has_guard_page",
  "sched.thousand_threads",
  "sched.thread_pointer_switches_with_thread",
  "sched.waitq_timeout",
  "sync.cond_signal_and_broadcast",
  "sync.mutex_errors_and_timeout",
  "sync.mutex_fair_fifo_handoff",
  "sync.semaphore_producer_consumer",
];

test("the scheduler's guest tests pass", { skip, timeout: 300_000 }, async () => {
  const built = await buildApp(appDir, { test: true, log: () => {} });
  const r = await runImage(built.image, { runner: testRunner(), memory: 64 << 20, cmdline: "", debugImage: built.debugImage, timeoutMs: 180_000 });
  const passed = new Set([...r.output.matchAll(/^KTEST: pass (\S+)$/gm)].map((m) => m[1]!));
  const failed = [...r.output.matchAll(/^KTEST: fail (\S+.*)$/gm)].map((m) => m[1]!);
  const mine = failed.filter((f) => /^(sched|sync|mmu)\./.test(f));
  assert.deepEqual(mine, [], "failing scheduler tests:\n" + r.output);
  for (const name of EXPECTED) assert.ok(passed.has(name), `${name} did not pass:\n${r.output}`);
});

test("a thread that overflows its stack faults on its guard page", { skip, timeout: 300_000 }, async () => {
  const built = await buildApp(appDir, { log: () => {} });
  const r = await runImage(built.image, { runner: testRunner(), memory: 64 << 20, cmdline: "-- overflow", debugImage: built.debugImage, timeoutMs: 60_000 });
  assert.equal(r.status, 255, r.output);
  const bounds = /stack lo=0x([0-9a-f]+) hi=0x([0-9a-f]+)/.exec(r.output);
  assert.ok(bounds, r.output);
  assert.match(r.output, /kiln: fatal: page fault/);
  const cr2 = /kiln: cr2 0x([0-9a-f]+)/.exec(r.output);
  assert.ok(cr2, r.output);
  const lo = BigInt("0x" + bounds[1]);
  const addr = BigInt("0x" + cr2[1]);
  assert.ok(addr >= lo - 4096n && addr < lo, `cr2 ${cr2[1]} is not in the guard page below 0x${bounds[1]}`);
  assert.doesNotMatch(r.output, /overflow was not caught/);
});
