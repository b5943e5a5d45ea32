// The build step for `rootfs:`: pack the directory into build/<app>/initrd.cpio. The archive is
// made again on every build (reading the tree is cheap next to compiling) and written only when
// its bytes changed, so any change in the tree (a file's contents, a name, a mode, an mtime)
// makes the build not up to date, and nothing else does.
import * as fs from "node:fs";
import * as path from "node:path";
import type { AppManifest } from "../config/types.ts";
import { packRootfs } from "./rootfs.ts";

export const INITRD = "initrd.cpio";

export function packInitrd(app: AppManifest, outDir: string, log: (line: string) => void): { file?: string; changed: boolean } {
  const file = path.join(outDir, INITRD);
  if (app.rootfs === undefined) {
    // An app that dropped its rootfs must not boot with the old one.
    const had = fs.existsSync(file);
    fs.rmSync(file, { force: true });
    return { changed: had };
  }
  const packed = packRootfs(app.rootfs, app.manifestPath);
  let same = false;
  try {
    same = fs.readFileSync(file).equals(packed.archive);
  } catch {
    // not there yet
  }
  if (!same) {
    fs.writeFileSync(file, packed.archive);
    const kib = (packed.archive.length / 1024).toFixed(1);
    log(`CPIO ${INITRD}: ${packed.files} files, ${packed.dirs} directories, ${packed.symlinks} symlinks (${kib} KiB)`);
  }
  return { file, changed: !same };
}
