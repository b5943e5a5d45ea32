// `rootfs:` in kiln.yaml: a directory packed into the cpio newc archive the runners pass as the
// PVH boot module, which library initrd unpacks into "/" at boot. Everything the guest could
// not represent is refused here, naming the file: sockets, FIFOs and devices, names longer
// than a guest path component (255 bytes) or a whole guest path (4095 bytes), files of 4 GiB
// or more, and unreadable files. Hard links become separate copies (newc would keep the data
// with only one of the names).
import * as fs from "node:fs";
import * as path from "node:path";
import { KilnConfigError } from "../errors.ts";
import { displayPath } from "../config/yaml.ts";
import { NEWC_MAX, S_IFDIR, S_IFLNK, S_IFREG, writeNewc, type CpioEntry } from "./cpio.ts";

/** The guest's limits (kernel/lib/vfs/include/vfs/vfs.h). */
export const GUEST_NAME_MAX = 255;
export const GUEST_PATH_MAX = 4096;

export interface PackedRootfs {
  archive: Buffer;
  dirs: number;
  files: number;
  symlinks: number;
  /** Bytes of file contents. */
  bytes: number;
}

function kindOf(st: fs.Stats): string {
  if (st.isSocket()) return "a socket";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return "of an unknown file type";
}

/**
 * Packs `dir` (absolute). `manifest` is the kiln.yaml errors name. Entries are sorted by name
 * (byte order), directories before their contents, so the same tree gives the same archive.
 */
export function packRootfs(dir: string, manifest: string): PackedRootfs {
  const shown = displayPath(manifest);
  const refuse = (rel: string, problem: string, fix: string): never => {
    throw new KilnConfigError(shown, "rootfs", `${path.join(displayPath(dir), rel)}: ${problem}`, fix);
  };
  let top: fs.Stats;
  try {
    top = fs.statSync(dir);
  } catch {
    throw new KilnConfigError(shown, "rootfs", `the directory ${displayPath(dir)} does not exist`, "Create it, or fix the path (relative to the app directory)");
  }
  if (!top.isDirectory()) throw new KilnConfigError(shown, "rootfs", `${displayPath(dir)} is not a directory`, "Point rootfs at a directory whose contents become the guest's /");

  const entries: CpioEntry[] = [{ name: ".", mode: S_IFDIR | (top.mode & 0o7777), mtime: secs(top), data: new Uint8Array(0) }];
  const out = { dirs: 0, files: 0, symlinks: 0, bytes: 0 };
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(dir, rel));
    } catch (e) {
      return refuse(rel || ".", `cannot list the directory (${(e as NodeJS.ErrnoException).code ?? String(e)})`, "Make it readable");
    }
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      if (Buffer.byteLength(name) > GUEST_NAME_MAX) refuse(r, `the name is ${Buffer.byteLength(name)} bytes, the guest allows ${GUEST_NAME_MAX}`, "Shorten it");
      if (Buffer.byteLength(r) + 2 > GUEST_PATH_MAX) refuse(r, `the guest path /${r.slice(0, 20)}... is ${Buffer.byteLength(r) + 1} bytes, the guest allows ${GUEST_PATH_MAX - 1}`, "Use a shallower tree or shorter names");
      const abs = path.join(dir, r);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(abs);
      } catch (e) {
        return refuse(r, `cannot stat it (${(e as NodeJS.ErrnoException).code ?? String(e)})`, "Check the tree");
      }
      const base = { name: r, mtime: secs(st) };
      if (st.isDirectory()) {
        entries.push({ ...base, mode: S_IFDIR | (st.mode & 0o7777), data: new Uint8Array(0) });
        out.dirs++;
        walk(r);
      } else if (st.isSymbolicLink()) {
        const target = Buffer.from(fs.readlinkSync(abs));
        if (target.length >= GUEST_PATH_MAX) refuse(r, `the symlink's target is ${target.length} bytes, the guest allows ${GUEST_PATH_MAX - 1}`, "Shorten the target");
        entries.push({ ...base, mode: S_IFLNK | 0o777, data: target });
        out.symlinks++;
      } else if (st.isFile()) {
        if (st.size > NEWC_MAX) refuse(r, `the file is ${st.size} bytes; a cpio newc archive holds files below 4 GiB`, "Leave it out of the rootfs");
        let data: Buffer;
        try {
          data = fs.readFileSync(abs);
        } catch (e) {
          return refuse(r, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? String(e)})`, "Make it readable, or leave it out of the rootfs");
        }
        entries.push({ ...base, mode: S_IFREG | (st.mode & 0o7777), data });
        out.files++;
        out.bytes += data.length;
      } else {
        refuse(r, `is ${kindOf(st)}, which the archive cannot hold`, "Leave it out of the rootfs: the guest has only files, directories and symlinks (devices come from devfs at /dev)");
      }
    }
  };
  walk("");
  return { archive: writeNewc(entries), ...out };
}

function secs(st: fs.Stats): number {
  return Math.min(NEWC_MAX, Math.max(0, Math.floor(st.mtimeMs / 1000)));
}
