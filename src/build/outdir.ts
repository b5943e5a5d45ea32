// Making the build directory: every problem with the path is one KilnError naming it and the
// fix, found before anything is created. Directories are made one level at a time, never with a
// recursive mkdir, which loops forever under /proc.
import * as fs from "node:fs";
import * as path from "node:path";
import { KilnError } from "../errors.ts";
import { quote, visible } from "../quote.ts";

// statfs f_type of kernel virtual filesystems: nothing of a build belongs there.
const VIRTUAL_FS: ReadonlyMap<number, string> = new Map([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x1cd1, "devpts"],
  [0x64626720, "debugfs"],
  [0x74726163, "tracefs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x73636673, "securityfs"],
  [0x6165676c, "pstorefs"],
  [0xcafe4a11, "bpf"],
  [0x1021994, "devtmpfs"],
]);
const VIRTUAL_ROOTS = ["/proc", "/sys", "/dev"];

const CHOOSE = "Choose another directory with -o, or leave -o out for build/<app>";

function fail(dir: string, problem: string, fix = CHOOSE): never {
  throw new KilnError(`build directory ${quote(dir, 200)}: ${problem}. ${fix}.`);
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** The kernel virtual filesystem `p` (an existing path) is on, if any. */
function virtualFs(p: string): string | undefined {
  const real = fs.realpathSync(p);
  const root = VIRTUAL_ROOTS.find((r) => real === r || real.startsWith(r + "/"));
  // /dev is a devtmpfs, which is writable: refuse it by place, the others by type too.
  if (root) return root.slice(1);
  try {
    return VIRTUAL_FS.get(fs.statfsSync(real).type);
  } catch {
    return undefined;
  }
}

/**
 * Checks `dir` and creates it (and missing parents); returns its absolute path. Refused: the empty
 * path, an existing non-directory (or one in its way), anything on /proc, /sys, /dev or another
 * kernel virtual filesystem, and a parent where we may not write.
 */
export function prepareOutDir(dir: string): string {
  if (dir.trim() === "") fail(dir, "the path is empty", "Name a directory, e.g. -o build/myapp, or leave -o out");
  const abs = path.resolve(dir);
  // Walk up to the deepest part that exists; every level below it is to be created.
  const missing: string[] = [];
  let existing = abs;
  for (;;) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(existing);
    } catch (err) {
      const code = errCode(err);
      if (code === "ENOTDIR") fail(dir, `a part of the path is a file, not a directory`);
      if (code === "ENAMETOOLONG") fail(dir, "the path is too long for the filesystem");
      if (code !== "ENOENT") fail(dir, `cannot look at ${visible(existing, 200)} (${code})`);
    }
    if (st) {
      if (!st.isDirectory()) {
        fail(dir, existing === abs ? "it exists and is not a directory" : `${visible(existing, 200)} is a file, not a directory`,
          existing === abs ? "Remove or rename the file, or choose another directory with -o" : CHOOSE);
      }
      break;
    }
    missing.unshift(existing);
    const up = path.dirname(existing);
    if (up === existing) break;
    existing = up;
  }
  const vfs = virtualFs(existing);
  if (vfs) fail(dir, `it is on ${vfs}, a kernel virtual filesystem, where no build can go`, "Choose a directory on a real disk with -o, e.g. -o /tmp/myapp");
  try {
    fs.accessSync(existing, fs.constants.W_OK | fs.constants.X_OK);
  } catch {
    fail(dir, `${visible(existing, 200)} is not writable by this user`);
  }
  for (const d of missing) {
    try {
      fs.mkdirSync(d);
    } catch (err) {
      const code = errCode(err);
      if (code === "EEXIST" && fs.statSync(d).isDirectory()) continue; // made meanwhile, by a concurrent build
      fail(dir, `cannot create ${visible(d, 200)} (${code})`);
    }
  }
  return abs;
}
