import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { KilnConfigError } from "../errors.ts";
import { packRootfs } from "./rootfs.ts";
import { packInitrd } from "./initrd.ts";
import type { AppManifest } from "../config/types.ts";

const tmp = mkdtempSync(path.join(tmpdir(), "kiln-rootfs-"));
test.after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = path.join(tmp, `t${n++}`);
  mkdirSync(d);
  return d;
};
const manifest = path.join(tmp, "kiln.yaml");

/** The names in the archive, in order (parsed back from the newc headers). */
function names(archive: Buffer): string[] {
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    const field = (i: number) => parseInt(archive.subarray(pos + 6 + 8 * i, pos + 14 + 8 * i).toString(), 16);
    const namesize = field(11), filesize = field(6);
    const name = archive.subarray(pos + 110, pos + 110 + namesize - 1).toString();
    if (name === "TRAILER!!!") return out;
    out.push(name);
    pos += Math.ceil((110 + namesize) / 4) * 4;
    pos += Math.ceil(filesize / 4) * 4;
  }
}

test("packs a tree: sorted, each directory before its contents, symlinks kept", () => {
  const d = fresh();
  mkdirSync(path.join(d, "etc"));
  writeFileSync(path.join(d, "etc/motd"), "hi\n");
  writeFileSync(path.join(d, "b"), "");
  mkdirSync(path.join(d, "a/deep"), { recursive: true });
  writeFileSync(path.join(d, "a/deep/x"), "xyz");
  symlinkSync("motd", path.join(d, "etc/link"));
  const p = packRootfs(d, manifest);
  assert.deepEqual(names(p.archive), [".", "a", "a/deep", "a/deep/x", "b", "etc", "etc/link", "etc/motd"]);
  assert.deepEqual([p.dirs, p.files, p.symlinks, p.bytes], [3, 3, 1, 6]);
  assert.ok(packRootfs(d, manifest).archive.equals(p.archive), "the same tree gives the same bytes");
});

function refused(d: string, re: RegExp): void {
  assert.throws(
    () => packRootfs(d, manifest),
    (e: unknown) => e instanceof KilnConfigError && e.key === "rootfs" && re.test(e.message),
  );
}

test("a missing directory, or a file instead of one, is an error naming rootfs", () => {
  refused(path.join(tmp, "nope"), /the directory .*nope does not exist/);
  const f = path.join(tmp, "plain-file");
  writeFileSync(f, "");
  refused(f, /is not a directory/);
});

test("a FIFO, a socket, a 4 GiB file are refused by name", async () => {
  let d = fresh();
  execFileSync("mkfifo", [path.join(d, "pipe")]);
  refused(d, /pipe: is a FIFO, which the archive cannot hold/);

  d = fresh();
  const sock = path.join(d, "sock");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    refused(d, /sock: is a socket/);
  } finally {
    server.close();
  }

  // Names over 255 bytes and guest paths over 4095 bytes cannot be made on a Linux host (its
  // own limits are the same), so those two checks of rootfs.ts are not exercised here.

  d = fresh();
  writeFileSync(path.join(d, "huge"), ""); // then made sparse: no disk space used
  truncateSync(path.join(d, "huge"), 2 ** 32);
  refused(d, /huge: the file is 4294967296 bytes; a cpio newc archive holds files below 4 GiB/);
});

test("packInitrd writes the archive only when the tree changed, and removes it when rootfs goes", () => {
  const d = fresh();
  writeFileSync(path.join(d, "f"), "one");
  const out = fresh();
  const app = { rootfs: d, manifestPath: manifest } as AppManifest;
  const lines: string[] = [];
  const first = packInitrd(app, out, (l) => lines.push(l));
  assert.equal(first.changed, true);
  assert.match(lines[0]!, /^CPIO initrd\.cpio: 1 files, 0 directories, 0 symlinks/);
  assert.equal(packInitrd(app, out, () => {}).changed, false);
  writeFileSync(path.join(d, "f"), "two"); // same size, new contents
  assert.equal(packInitrd(app, out, () => {}).changed, true);
  writeFileSync(path.join(d, "g"), "");
  assert.equal(packInitrd(app, out, () => {}).changed, true);
  const gone = packInitrd({ manifestPath: manifest } as AppManifest, out, () => {});
  assert.deepEqual(gone, { changed: true });
  assert.equal(packInitrd({ manifestPath: manifest } as AppManifest, out, () => {}).changed, false);
});
