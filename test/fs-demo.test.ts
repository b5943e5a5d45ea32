// apps/fs-demo end to end: its rootfs packed by the build, passed as the boot module, unpacked
// into ramfs; files read, written, listed; /dev. And the bad inputs: a broken archive is a boot
// error naming the entry, a missing rootfs a build error naming the key.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { appDir, boot, buildFor } from "./lib/boot.ts";
import { resolveApp } from "../src/config/index.ts";
import { build } from "../src/build/index.ts";
import { runImage, testRunner } from "../src/run/index.ts";
import { KilnConfigError } from "../src/errors.ts";
import { QEMU_BINARY, qemuArgs } from "../src/run/qemu.ts";
import { spawnSync } from "node:child_process";

const tmp = mkdtempSync(path.join(tmpdir(), "kiln-fs-demo-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test("fs-demo reads its rootfs, writes and lists files, and reads /dev/urandom", async () => {
  const r = await boot("fs-demo");
  assert.equal(r.status, 0, r.output);
  assert.match(r.output, /^Welcome to Kiln: this file came from apps\/fs-demo\/rootfs/m);
  assert.match(r.output, /^6 numbers, sum 32$/m);
  assert.match(r.output, /^first line\nsecond line, appended$/m);
  assert.match(r.output, /^cwd \/data\/nested holds: deep$/m);
  assert.match(r.output, /^== 16 bytes of \/dev\/urandom\n(?!0{32})[0-9a-f]{32}\n\(seeded from (rdseed|rdrand)\)$/m);
  assert.match(r.output, /^etc\/\n {2}motd \(82 bytes, mode 644\)\n {2}welcome -> motd$/m);
  assert.match(r.output, /^ {2}urandom \(device 1:9\)$/m);
  assert.match(r.output, /^tmp\/\n {2}notes\.old \(33 bytes, mode 644\)$/m);
  assert.match(r.output, /^fs-demo: ok$/m);
});

/** Boots the fs-demo image with another initrd. */
async function bootWith(initrd: string) {
  const { built, memory } = await buildFor("fs-demo");
  return runImage(built.image, { runner: testRunner(), memory, cmdline: "", initrd, timeoutMs: 60_000 });
}

test("a malformed archive stops the boot with one line naming the entry", async () => {
  const { built } = await buildFor("fs-demo");
  assert.ok(built.initrd);
  const good = readFileSync(built.initrd);
  const cut = path.join(tmp, "cut.cpio");
  writeFileSync(cut, good.subarray(0, good.indexOf("etc/motd") + 20)); // inside motd's data
  const r = await bootWith(cut);
  assert.equal(r.status, 255, r.output);
  assert.match(r.output, /^kiln: initrd: entry \d+ "etc\/motd" at offset 0x[0-9a-f]+: the data \(filesize 82\) runs past the end of the archive$/m);
  assert.match(r.output, /^kiln: fatal: init initrd_init \(rootfs, 10\) failed/m);

  const junk = path.join(tmp, "junk.cpio");
  writeFileSync(junk, Buffer.from("this is not a cpio archive at all, just text".repeat(4)));
  const j = await bootWith(junk);
  assert.equal(j.status, 255, j.output);
  assert.match(j.output, /^kiln: initrd: entry 0 at offset 0x0: bad magic/m);
});

test("rootfs: a missing directory is a build error naming the key; a changed tree rebuilds", async () => {
  const app = path.join(tmp, "app");
  cpSync(appDir("fs-demo"), app, { recursive: true });
  const manifest = path.join(app, "kiln.yaml");
  writeFileSync(manifest, readFileSync(manifest, "utf8").replace(/sources: \[main\.c\]/, `sources: [${JSON.stringify(path.join(appDir("fs-demo"), "main.c"))}]`));
  const outDir = path.join(tmp, "build");
  const cfg = await resolveApp(app, { sets: [], test: false });
  const first = await build(cfg, { outDir, log: () => {} });
  assert.ok(first.initrd);
  assert.equal((await build(cfg, { outDir, log: () => {} })).upToDate, true);
  writeFileSync(path.join(app, "rootfs/etc/motd"), "changed\n");
  const lines: string[] = [];
  const again = await build(cfg, { outDir, log: (l) => lines.push(l) });
  assert.equal(again.upToDate, false);
  assert.equal(again.compiled, 0, "only the archive is redone");
  assert.ok(lines.some((l) => l.startsWith("CPIO initrd.cpio")), lines.join("\n"));

  writeFileSync(manifest, readFileSync(manifest, "utf8").replace("rootfs: rootfs", "rootfs: no-such-dir"));
  const bad = await resolveApp(app, { sets: [], test: false });
  await assert.rejects(build(bad, { outDir, log: () => {} }), (e: unknown) => e instanceof KilnConfigError && e.key === "rootfs" && /no-such-dir does not exist/.test(e.message));
});

test("without RDSEED and RDRAND, /dev/urandom refuses and says why (QEMU TCG with both removed)", async () => {
  const { built, memory } = await buildFor("fs-demo");
  const args = qemuArgs(built.image, { memory, cmdline: "", accel: "tcg", initrd: built.initrd! });
  args[args.indexOf("max")] = "max,-rdrand,-rdseed";
  const r = spawnSync(QEMU_BINARY, args, { encoding: "utf8", timeout: 60_000 });
  const out = r.stdout.replace(/\r/g, "");
  assert.match(out, /^kiln: random: no RDSEED or RDRAND \(or they kept failing\): refusing to make random bytes; set random\.fallback=tsc_jitter to accept a weak seed$/m);
  assert.match(out, /^fs-demo: FAILED urandom: .* \(-5\)$/m);
  assert.match(out, /^kiln: exit 1$/m);
});

test("console input reaches fd 0 through /dev/console, a line at a time, CR read as LF", async () => {
  const { built, memory } = await buildFor("fs-demo");
  const args = qemuArgs(built.image, { memory, cmdline: "-- read-line", accel: "tcg", initrd: built.initrd! });
  const r = spawnSync(QEMU_BINARY, args, { encoding: "utf8", timeout: 60_000, input: "typed on the console\rnext line\r" });
  const out = r.stdout.replace(/\r/g, "");
  assert.match(out, /^fs-demo: read 21 bytes from the console: typed on the console$/m);
  assert.match(out, /^kiln: exit 0$/m);
});
