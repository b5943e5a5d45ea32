// BSD sockets of a musl app (kernel/lib/posix-socket over the net stack's loopback, epoll in
// posix-fd): apps/socket-test prints the same "ok"/"FAIL" lines on Kiln as the same source built
// natively with musl-gcc and run on Linux, under QEMU's TCG (what CI has), QEMU with KVM and
// Kiln's own VMM (where /dev/kvm works). The lines only Kiln prints (no IPv6, no AF_UNIX) are
// checked by name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import path from "node:path";
import { appDir, buildFor } from "./lib/boot.ts";
import { runImage, type RunnerName } from "../src/run/index.ts";
import { kvmAvailable } from "../src/vmm/index.ts";
import { composeCmdline } from "../src/run/cmdline.ts";

const lines = (out: string) => out.replace(/\r/g, "").split("\n").filter((l) => /^(ok|FAIL) /.test(l));
const kilnOnly = ["ok socket.inet6_unsupported", "ok socket.unix_unsupported"];

let expected: string[] | undefined;
function native(): string[] {
  if (expected) return expected;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-socket-test-"));
  try {
    const exe = path.join(tmp, "socket-test-native");
    const cc = spawnSync("musl-gcc", ["-static", "-O2", "-o", exe, path.join(appDir("socket-test"), "main.c")], { encoding: "utf8" });
    assert.equal(cc.status, 0, `musl-gcc failed:\n${cc.stderr}`);
    const r = spawnSync(exe, [], { encoding: "utf8", timeout: 60_000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    expected = lines(r.stdout);
    assert.ok(expected.length >= 70, r.stdout);
    return expected;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function bootWith(runner: RunnerName, accel?: "kvm" | "tcg") {
  const { built, memory, cmdline } = await buildFor("socket-test");
  return runImage(built.image, {
    runner,
    ...(accel ? { accel } : {}),
    memory,
    cmdline: composeCmdline(cmdline, [], []),
    debugImage: built.debugImage,
    timeoutMs: 180_000,
  });
}

function sameAsLinux(output: string, status: number) {
  const got = lines(output);
  assert.deepEqual(got.filter((l) => !kilnOnly.includes(l)), native(), output);
  for (const l of kilnOnly) assert.ok(got.includes(l), `${l} missing:\n${output}`);
  assert.match(output, /^socket-test: 0 failures$/m);
  assert.equal(status, 0, output);
  assert.doesNotMatch(output, /not implemented: -ENOSYS/);
}

test("apps/socket-test under QEMU TCG prints what it prints natively on Linux", { timeout: 300_000 }, async () => {
  const r = await bootWith("qemu", "tcg");
  sameAsLinux(r.output, r.status);
});

test("apps/socket-test under QEMU with KVM, the same lines", { timeout: 300_000, skip: kvmAvailable().ok ? false : "no usable /dev/kvm" }, async () => {
  const r = await bootWith("qemu", "kvm");
  sameAsLinux(r.output, r.status);
});

test("apps/socket-test on Kiln's VMM, the same lines", { timeout: 300_000, skip: kvmAvailable().ok ? false : "no usable /dev/kvm" }, async () => {
  const r = await bootWith("vmm");
  sameAsLinux(r.output, r.status);
});
