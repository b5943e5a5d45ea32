import { test } from "node:test";
import { strict as assert } from "node:assert";
import { readFileSync, readdirSync } from "node:fs";
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

test("real fds and mappings through koffi are gone from /proc/self after release", () => {
  const sys = loadSys();
  const ledger = new ResourceLedger(sys);
  const fdsBefore = readdirSync("/proc/self/fd").length;
  const fd = sys.open("/dev/null", O_CLOEXEC);
  assert.ok(fd >= 0);
  ledger.fd("null", fd);
  const len = 3 * 4096;
  const addr = sys.mmap(len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ledger.mapping("anon", addr, len);
  const view = new Uint8Array(sys.view(addr, len));
  view[len - 1] = 42;
  assert.equal(view[len - 1], 42);
  const hexAddr = addr.toString(16);
  assert.ok(readFileSync("/proc/self/maps", "utf8").split("\n").some((l) => l.startsWith(hexAddr + "-")));
  assert.equal(readdirSync("/proc/self/fd").length, fdsBefore + 1);
  ledger.release();
  assert.equal(readdirSync("/proc/self/fd").length, fdsBefore);
  assert.ok(!readFileSync("/proc/self/maps", "utf8").split("\n").some((l) => l.startsWith(hexAddr + "-")), "mapping gone");
  assert.deepEqual(ledger.summary().failures, []);
  assert.ok(sys.close(fd) < 0, "fd really closed");
  assert.match(sys.strerror(sys.errno()), /Bad file descriptor/);
});

test("sigset layout", () => {
  const s = sigset(12, 1, 64);
  assert.equal(s[0], 1);
  assert.equal(s[1], 1 << 3);
  assert.equal(s[7], 0x80);
  assert.equal(s.length, 128);
});
