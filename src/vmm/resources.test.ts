import { test } from "node:test";
import { strict as assert } from "node:assert";
import { readFileSync, readlinkSync } from "node:fs";
import { ResourceLedger } from "./resources.ts";
import { MAP_ANONYMOUS, MAP_PRIVATE, O_CLOEXEC, PROT_READ, PROT_WRITE, loadSys, sigset } from "./sys.ts";

test("ledger releases newest first and records failures", () => {
  const calls: string[] = [];
  const ledger = new ResourceLedger({
    close: (fd) => (calls.push(`close ${fd}`), fd === 9 ? -1 : 0),
    munmap: (addr) => (calls.push(`munmap ${addr}`), 0),
    errno: () => 9,
  });
  ledger.fd("kvm", 3);
  ledger.fd("vm", 4);
  ledger.mapping("ram", 0x1000n, 4096);
  ledger.fd("bad", 9);
  ledger.releaseOne((r) => r.label === "kvm");
  assert.deepEqual(calls, ["close 3"]);
  ledger.release();
  ledger.release();
  assert.deepEqual(calls, ["close 3", "close 9", "munmap 4096", "close 4"]);
  const s = ledger.summary();
  assert.equal(s.opened, 4);
  assert.equal(s.released, 4);
  assert.deepEqual(s.outstanding, []);
  assert.deepEqual(s.failures, ["close bad: errno 9"]);
});

/** The /proc/self/maps ranges as [start, end) pairs. */
function maps(): Array<[bigint, bigint]> {
  return readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[0]!.split("-").map((h) => BigInt(`0x${h}`)) as [bigint, bigint]);
}

// The kernel merges an anonymous mapping with a neighbour of the same rights, so the new
// mapping's address need not start a line: ask whether a line's range covers it.
const covered = (addr: bigint, len: number) => maps().some(([lo, hi]) => lo <= addr && addr + BigInt(len) <= hi);
const touched = (addr: bigint, len: number) => maps().some(([lo, hi]) => lo < addr + BigInt(len) && addr < hi);
const fdTarget = (fd: number) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
};

test("real fds and mappings through koffi are gone from /proc/self after release", () => {
  const sys = loadSys();
  const ledger = new ResourceLedger(sys);
  const fd = sys.open("/dev/null", O_CLOEXEC);
  assert.ok(fd >= 0);
  ledger.fd("null", fd);
  assert.equal(fdTarget(fd), "/dev/null");
  const len = 3 * 4096;
  const addr = sys.mmap(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ledger.mapping("anon", addr, len);
  const view = new Uint8Array(sys.view(addr, len));
  view[len - 1] = 42;
  assert.equal(view[len - 1], 42);
  assert.ok(covered(BigInt(addr), len), "the mapping is in /proc/self/maps");
  ledger.release();
  // Another thread of this process may get the same fd number at once: only /dev/null counts.
  assert.notEqual(fdTarget(fd), "/dev/null", "fd closed");
  assert.ok(!touched(BigInt(addr), len), "mapping gone");
  assert.deepEqual(ledger.summary().failures, []);
  assert.ok(sys.close(fd) < 0, "fd really closed");
  assert.match(sys.strerror(sys.errno()), /Bad file descriptor/);
});

test("the maps check sees a mapping merged into a bigger range", () => {
  const sys = loadSys();
  const ledger = new ResourceLedger(sys);
  // Two adjacent anonymous mappings with the same rights: the kernel shows them as one line.
  const len = 4 * 4096;
  const whole = sys.mmap(2 * len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ledger.mapping("whole", whole, 2 * len);
  const second = BigInt(whole) + BigInt(len);
  const lines = readFileSync("/proc/self/maps", "utf8").split("\n");
  assert.ok(!lines.some((l) => l.startsWith(`${second.toString(16)}-`)), "no line starts at the second half");
  assert.ok(covered(second, len), "yet it is covered");
  ledger.release();
  assert.ok(!touched(BigInt(whole), 2 * len));
});

test("sigset layout", () => {
  const s = sigset(12, 1, 64);
  assert.equal(s[0], 1);
  assert.equal(s[1], 1 << 3);
  assert.equal(s[7], 0x80);
  assert.equal(s.length, 128);
});
