// A writer for cpio "newc" archives (magic 070701): the format Linux's initramfs and Kiln's
// initrd library read. Each entry: a 110-byte header of 13 fields in 8 hex digits, the name
// with its NUL padded to 4 bytes, the data padded to 4 bytes; a TRAILER!!! entry ends it.
// No npm package for this was in the registry lists, and it is 40 lines.

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export interface CpioEntry {
  /** Path inside the archive, relative ("etc/motd"); "." is the root. */
  name: string;
  /** File type and permission bits (S_IFREG | 0o644 ...). */
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** File contents, or a symlink's target; empty for a directory. */
  data: Uint8Array;
}

/** The largest value a header field holds (8 hex digits). */
export const NEWC_MAX = 0xffffffff;

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function header(fields: number[]): string {
  return "070701" + fields.map((v) => v.toString(16).toUpperCase().padStart(8, "0")).join("");
}

/** The archive bytes. Entries go in the given order (parents before children). */
export function writeNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    size += b.length;
  };
  const add = (e: CpioEntry, ino: number) => {
    const name = Buffer.from(e.name + "\0", "utf8");
    for (const [what, v] of [["size", e.data.length], ["name", name.length], ["mtime", e.mtime]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > NEWC_MAX) throw new RangeError(`cpio newc: ${e.name}: ${what} ${v} does not fit a header field`);
    }
    const nlink = (e.mode & S_IFMT) === S_IFDIR ? 2 : 1;
    // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
    push(Buffer.from(header([ino, e.mode, 0, 0, nlink, e.mtime, e.data.length, 0, 0, 0, 0, name.length, 0]), "ascii"));
    push(name);
    push(Buffer.alloc(pad4(110 + name.length)));
    push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.length));
    push(Buffer.alloc(pad4(e.data.length)));
  };
  entries.forEach((e, i) => add(e, i + 1));
  add({ name: "TRAILER!!!", mode: 0, mtime: 0, data: new Uint8Array(0) }, 0);
  return Buffer.concat(parts, size);
}
