// Host tests of the initrd: the cpio newc reader and unpacker (over the real VFS and ramfs),
// built with AddressSanitizer and UBSan. A seeded fuzzer feeds 120,000 mutated archives through
// both; and archives made by `kiln build`'s writer (src/build/rootfs.ts) unpack to exactly the
// tree they came from, so the writer and the reader agree on the format.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { packRootfs } from "../../../../src/build/rootfs.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = path.resolve(here, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "kiln-initrd-host-"));
const exe = path.join(dir, "initrd-fuzz");
test.after(() => rmSync(dir, { recursive: true, force: true }));

const sources = [
  "vfs/namei.c", "vfs/fd.c", "vfs/vfs.c", "ramfs/ramfs.c", "ramfs/tests/fs_suite.c",
  "initrd/cpio.c", "initrd/unpack.c", "initrd/tests/newc_build.c", "initrd/tests/host/fuzz.c",
];

test("the reader, unpacker and fuzzer compile warning-free with ASan and UBSan", () => {
  execFileSync(
    "gcc",
    [
      "-std=c11", "-D_DEFAULT_SOURCE", "-Wall", "-Wextra", "-Werror", "-g", "-O1",
      "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-DCONFIG_VFS_MAX_FDS=16",
      ...["vfs", "ramfs", "initrd"].map((l) => `-I${path.join(lib, l, "include")}`),
      ...sources.map((f) => path.join(lib, f)),
      "-o", exe,
    ],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
});

const env = { ...process.env, ASAN_OPTIONS: "detect_leaks=1", UBSAN_OPTIONS: "print_stacktrace=1" };

test("a well-formed archive unpacks to exactly its entries, files borrowing the archive", () => {
  const r = spawnSync(exe, ["valid"], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.equal(
    r.stdout,
    [
      "d 755 /etc",
      "f 644 22 /etc/motd 98130651",
      "f 600 0 /etc/empty 811c9dc5",
      "l /etc/link -> motd",
      "d 755 /bin",
      "f 755 8 /bin/tool d1966b63",
      "l /abs -> /etc/motd",
      "d 700 /data",
      "f 644 3000 /data/big d7d7c4ed",
      "STATS dirs=3 files=4 symlinks=2 bytes=3030 borrowed=3030",
      "",
    ].join("\n"),
  );
});

for (const seed of [1, 2]) {
  test(`fuzz seed ${seed}: 60,000 mutated archives never crash, hang or escape, and every refusal names its entry`, { timeout: 300_000 }, () => {
    const r = spawnSync(exe, ["fuzz", String(seed), "60000"], { encoding: "utf8", env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const m = /^OK fuzz seed=\d+ iterations=60000 unpacked=(\d+) malformed=(\d+) refused=(\d+)$/m.exec(r.stdout);
    assert.ok(m, r.stdout);
    // The mutations reach every outcome: accepted, refused by the reader, refused by the unpacker.
    for (const n of m.slice(1)) assert.ok(Number(n) > 1000, r.stdout);
  });
}

test("what kiln build packs is what the guest unpacks", () => {
  const root = path.join(dir, "rootfs");
  mkdirSync(path.join(root, "etc/deeper"), { recursive: true });
  writeFileSync(path.join(root, "etc/motd"), "hello\n", { mode: 0o640 });
  writeFileSync(path.join(root, "etc/deeper/big"), Buffer.alloc(70_000, 7));
  writeFileSync(path.join(root, "empty"), "");
  symlinkSync("etc/motd", path.join(root, "motd"));
  const archive = path.join(dir, "rootfs.cpio");
  writeFileSync(archive, packRootfs(root, path.join(dir, "kiln.yaml")).archive);
  const r = spawnSync(exe, ["unpack", archive], { encoding: "utf8", env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.deepEqual(lines.map((l) => l.replace(/ [0-9a-f]{8}$/, "")), [
    "f 644 0 /empty",
    "d 755 /etc",
    "d 755 /etc/deeper",
    "f 644 70000 /etc/deeper/big",
    "f 640 6 /etc/motd",
    "l /motd -> etc/motd",
    "STATS dirs=2 files=3 symlinks=1 bytes=70006 borrowed=70006",
  ]);
  // a truncated copy is refused with the entry's name
  const cut = path.join(dir, "cut.cpio");
  writeFileSync(cut, packRootfs(root, path.join(dir, "kiln.yaml")).archive.subarray(0, 700));
  const bad = spawnSync(exe, ["unpack", cut], { encoding: "utf8", env });
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /^ERROR entry 4 "etc\/deeper\/big" at offset 0x[0-9a-f]+: the data \(filesize 70000\) runs past the end of the archive$/m);
});
