// Seeded fuzz loop over the whole stack under ASan/UBSan (tests/host/fuzz.c): random frames,
// well-formed frames that follow the stack's own connections then get mutated, clock jumps and
// application calls, then a check that every netbuf and byte of memory comes back once all is
// closed. The suite runs a few seeds for seconds; KILN_NET_FUZZ_FRAMES=N runs N frames per seed
// (the issue asks at least 1,000,000), KILN_NET_FUZZ_SEEDS=a,b,c picks the seeds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { compileHost } from "./netns.ts";

const dir = mkdtempSync(path.join(tmpdir(), "kiln-net-fuzz-"));
const exe = path.join(dir, "fuzz");
test.after(() => rmSync(dir, { recursive: true, force: true }));

const frames = Number(process.env.KILN_NET_FUZZ_FRAMES ?? 200_000);
const seeds = (process.env.KILN_NET_FUZZ_SEEDS ?? "1,2,3").split(",").map(Number);

test("the fuzzer compiles warning-free with ASan and UBSan", () => {
  compileHost(exe, ["host/fuzz.c"]);
});

function fuzz(seed: number, n: number): string {
  const r = spawnSync(exe, [String(seed), String(n)], {
    encoding: "utf8",
    timeout: 1_800_000,
    env: { ...process.env, ASAN_OPTIONS: "detect_leaks=1:abort_on_error=0", UBSAN_OPTIONS: "print_stacktrace=1" },
  });
  assert.equal(r.status, 0, `fuzz seed ${seed}:\n${r.stdout}${r.stderr}`);
  assert.doesNotMatch(r.stderr, /runtime error|AddressSanitizer/, r.stderr);
  assert.match(r.stdout, new RegExp(`^OK seed=${seed} frames=\\d+ `, "m"));
  return r.stdout;
}

for (const seed of seeds) {
  test(`fuzz seed ${seed}: ${frames} frames, no crash, hang, sanitizer report or leak`, { timeout: 1_800_000 }, () => {
    const out = fuzz(seed, frames);
    // The frames reached deep: connections were answered and reset, echoes sent.
    const m = /tcp_rx=(\d+) rst=(\d+) .* echo=(\d+)/.exec(out);
    assert.ok(m && Number(m[1]) > frames / 10 && Number(m[2]) > 0 && Number(m[3]) > 0, out);
  });
}

// Seed 7 found two bugs within a million frames: a socket closed in SYN_RECEIVED (simultaneous
// open) stayed ESTABLISHED forever as an orphan, and a bogus echoed timestamp overflowed the
// RTT arithmetic (UBSan). It stays as a regression run.
test("fuzz seed 7, 1,000,000 frames (regression: orphan after close in SYN_RECEIVED, bogus TSecr)", { timeout: 600_000 }, () => {
  fuzz(7, 1_000_000);
});

test("a netbuf freed twice traps instead of corrupting the pool", () => {
  const r = spawnSync(exe, ["doublefree"], { encoding: "utf8" });
  assert.equal(r.signal, "SIGILL", `expected a trap, got status ${r.status}:\n${r.stdout}${r.stderr}`);
});
