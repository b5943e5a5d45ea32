// musl apps end to end: the syscall layer's guest tests (apps/posix-test), a small musl app, the
// SQLite shell against the same SQLite built natively against musl, and `kiln syscalls`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { appDir, boot, buildFor } from "./lib/boot.ts";
import { reportElf, reportImage } from "../src/syscalls/report.ts";
import { kernelRoot } from "../src/paths.ts";
import { resolveApp } from "../src/config/index.ts";
import { QEMU_BINARY, qemuArgs } from "../src/run/qemu.ts";

test("posix-test: every check of the syscall layer passes, and an unknown syscall is logged once by name", async () => {
  const r = await boot("posix-test");
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /^posix-test: 0 failures$/m);
  assert.doesNotMatch(r.output, /^FAIL /m);
  for (const name of ["efault.write_null", "efault.read_wild", "emfile", "enametoolong.path", "enospc", "enospc.intact", "signal.raise", "mm.mmap_file", "clone.fork", "clone.thread_needs_sighand"]) {
    assert.match(r.output, new RegExp(`^ok ${name.replace(".", "\\.")}$`, "m"));
  }
  const logged = r.output.split("\n").filter((l) => l.includes("syscall io_setup (206) is not implemented: -ENOSYS"));
  assert.equal(logged.length, 1, "called twice, logged once");
  // fastpath.abi tested the rewritten call, not the syscall instruction.
  assert.match(r.output, /^ok fastpath\.abi$/m);
  const cfg = await resolveApp(appDir("posix-test"), { sets: [], test: false });
  const sources = cfg.libraries.flatMap((l) => l.sources.map((file) => ({ library: l.manifest.name, file })));
  const rep = await reportImage(r.built.debugImage, r.built.mapFile, sources);
  assert.deepEqual(rep.sites.filter((s) => s.func === "fast_path_abi").map((s) => [s.path, s.nr]), [["fast", 110]]);
});

test("posix-test's pipe checks pass on Kiln and natively alike, and SIGPIPE's default action ends the app", { timeout: 300_000 }, async () => {
  const r = await boot("posix-test", { args: ["pipe"] });
  assert.equal(r.status, 0, r.output);
  const oks = (out: string) => out.replace(/\r/g, "").split("\n").filter((l) => /^(ok|FAIL) pipe2?\./.test(l));
  const kiln = oks(r.output);
  assert.ok(kiln.length >= 20, r.output);
  assert.ok(kiln.includes("ok pipe.large_transfer") && kiln.includes("ok pipe.sigpipe"), r.output);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-posix-test-"));
  try {
    const exe = path.join(tmp, "posix-test-native");
    const cc = spawnSync("musl-gcc", ["-static", "-O1", "-o", exe, path.join(appDir("posix-test"), "main.c")], { encoding: "utf8" });
    assert.equal(cc.status, 0, cc.stderr);
    const native = spawnSync(exe, ["pipe"], { encoding: "utf8" });
    assert.equal(native.status, 0, native.stdout);
    assert.deepEqual(kiln, oks(native.stdout), "the same checks, the same results");
    const nativeKill = spawnSync(exe, ["sigpipe"], { encoding: "utf8" });
    assert.equal(nativeKill.signal, "SIGPIPE");
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const killed = await boot("posix-test", { args: ["sigpipe"] });
  assert.equal(killed.status, 128 + 13, killed.output);
  assert.match(killed.output, /killed by signal 13 \(SIGPIPE\)/);
  assert.doesNotMatch(killed.output, /still running/);
});

test("a musl app gets its arguments, files, heap and exit status", async () => {
  const r = await boot("musl-hello", { args: ["x", "y z"] });
  assert.equal(r.status, 3, r.output);
  assert.match(r.output, /^Hello from musl, pid 1, 3 args: app x y z$/m);
  assert.match(r.output, /^read back: line 42$/m);
});

test("the fast path rewrites most syscall sites of a musl app; kiln syscalls reports each", async () => {
  const { built } = await buildFor("musl-hello");
  const cfg = await resolveApp(appDir("musl-hello"), { sets: [], test: false });
  const sources = cfg.libraries.flatMap((l) => l.sources.map((file) => ({ library: l.manifest.name, file })));
  const rep = await reportImage(built.debugImage, built.mapFile, sources);
  const fast = rep.sites.filter((s) => s.path === "fast").length;
  assert.ok(fast >= rep.sites.length * 0.8, `${fast} of ${rep.sites.length} rewritten`);
  const write = rep.numbers.find((n) => n.name === "ioctl");
  assert.equal(write?.implementedBy, "posix-fd");
});

/** Builds apps/sqlite's objects and the native shell with its own make (fetches the sources once). */
function makeSqlite(): void {
  const r = spawnSync("make", ["-C", appDir("sqlite"), "-j2", "all", "native"], { encoding: "utf8" });
  assert.equal(r.status, 0, `make -C apps/sqlite failed:\n${r.stdout}\n${r.stderr}`);
}

test("apps/sqlite runs its rootfs script and prints what the same SQLite prints natively on musl", { timeout: 600_000 }, async () => {
  makeSqlite();
  const r = await boot("sqlite", { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.output);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-sqlite-"));
  try {
    const native = spawnSync(path.join(appDir("sqlite"), "out/sqlite3-native"), ["-batch", path.join(tmp, "demo.db"), ".read demo.sql"], {
      cwd: path.join(appDir("sqlite"), "rootfs"),
      encoding: "utf8",
    });
    assert.equal(native.status, 0, native.stderr);
    const expected = native.stdout.trim().split("\n");
    assert.ok(expected.length >= 8, native.stdout);
    const got = r.output.replace(/\r/g, "").split("\n").filter((l) => expected.includes(l));
    assert.deepEqual(got, expected, r.output);
    assert.doesNotMatch(r.output, /not implemented: -ENOSYS/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test("apps/sqlite reads SQL typed on the console (interactive shell)", { timeout: 600_000 }, async () => {
  makeSqlite();
  const { built, memory } = await buildFor("sqlite");
  const args = qemuArgs(built.image, { memory, cmdline: "-- :memory:", accel: "tcg", initrd: built.initrd! });
  // Empty lines first: input that is waiting before the UART's first use can lose a byte (plat-kvm
  // serial setup races QEMU refilling the receive register); SQLite ignores empty lines.
  const r = spawnSync(QEMU_BINARY, args, { encoding: "utf8", timeout: 120_000, input: "\r\r\rselect 6*7, 'typed';\r.quit\r" });
  const out = r.stdout.replace(/\r/g, "");
  assert.match(out, /SQLite version 3\.52\.0/, out);
  assert.match(out, /│ +42 │ typed +│/, out); // an interactive shell prints boxes
  assert.match(out, /kiln: exit 0$/m, out); // after the last prompt
});

test("kiln syscalls on a static musl binary finds its sites and numbers", { timeout: 600_000 }, async () => {
  makeSqlite();
  const rep = await reportElf(path.join(appDir("sqlite"), "out/sqlite3-native"), kernelRoot);
  assert.ok(rep.sites.length > 50);
  const names = new Map(rep.numbers.map((n) => [n.name, n.implementedBy]));
  assert.equal(names.get("fcntl"), "posix-fd");
  assert.equal(names.get("socket"), "posix-socket", "socket is a site, implemented where an app selects posix-socket");
  assert.ok(names.has("execve") && names.get("execve") === undefined, "execve is a site, and -ENOSYS");
});

test("apps/duktape runs its rootfs script and prints what the same engine prints natively on musl", { timeout: 600_000 }, async () => {
  const mk = spawnSync("make", ["-C", appDir("duktape"), "-j2", "all", "native"], { encoding: "utf8" });
  assert.equal(mk.status, 0, `make -C apps/duktape failed (needs Debian's duktape-dev):\n${mk.stdout}\n${mk.stderr}`);
  const r = await boot("duktape", { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.output);
  const native = spawnSync(path.join(appDir("duktape"), "out/duktape-native"), ["main.js"], { cwd: path.join(appDir("duktape"), "rootfs"), encoding: "utf8" });
  assert.equal(native.status, 0, native.stderr);
  const expected = native.stdout.trim().split("\n");
  assert.ok(expected.length >= 10, native.stdout);
  assert.deepEqual(r.output.replace(/\r/g, "").split("\n").filter((l) => expected.includes(l)), expected, r.output);
  assert.doesNotMatch(r.output, /not implemented: -ENOSYS/);
});

/** `NN name = ... [OK|FAIL|SKIPPED]` lines of nolibc-test: the first result of each name. */
function nolibcResults(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const l of out.split("\n")) {
    const x = /^\s*\d+ (\S+) .*\[(OK|FAIL|SKIPPED)\]\s*$/.exec(l.replace(/\r/g, ""));
    if (x && !m.has(x[1]!)) m.set(x[1]!, x[2]!);
  }
  return m;
}

// Each failure on Kiln and why (docs/porting-an-app.md, "nolibc-test"): a change in this list is
// a regression or a fix, and the docs' table must change with it.
const NOLIBC_KILN_FAILS = [
  "sbrk", "brk", // musl: sbrk(n != 0) and brk() always fail (natively too)
  "chmod_net", "chmod_self", "chown_self", // no /proc (the test creates the directory, mount is -ENOSYS)
  "chroot_root", "chroot_blah", "chroot_exe", // chroot: -ENOSYS
  "execve_root", // execve: -ENOSYS (no exec)
  "ioctl_tiocinq", // TIOCINQ: -ENOTTY (natively too, stdin not a terminal)
  "link_root1", "link_blah", "link_dir", "link_cross", // link: -ENOSYS (the VFS has no hard links)
];

test("Linux's nolibc-test built against musl: Kiln fails exactly the listed tests, natively the rest pass too", { timeout: 600_000 }, async () => {
  const mk = spawnSync("make", ["-C", appDir("nolibc-test"), "all", "native"], { encoding: "utf8" });
  assert.equal(mk.status, 0, `make -C apps/nolibc-test failed (needs linux-source-6.1):\n${mk.stdout}\n${mk.stderr}`);
  const r = await boot("nolibc-test", { timeoutMs: 120_000 });
  const kiln = nolibcResults(r.output);
  assert.ok(kiln.size >= 60, r.output);
  const fails = [...kiln].filter(([, v]) => v !== "OK").map(([k]) => k);
  assert.deepEqual(fails.sort(), [...NOLIBC_KILN_FAILS].sort(), r.output);
  const native = spawnSync(path.join(appDir("nolibc-test"), "out/nolibc-test-native"), [], { encoding: "utf8" });
  const host = nolibcResults(native.stdout);
  assert.deepEqual([...host.keys()].sort(), [...kiln.keys()].sort(), "the same tests ran");
});
