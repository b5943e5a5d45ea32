// The build directory's memory between runs: what each object was built from, and the keys of
// the last prelinks and link, so an unchanged build does nothing at all.
import * as fs from "node:fs";
import * as path from "node:path";

export interface ObjectRecord {
  /** Content hash the object file is named by. */
  hash: string;
  /** Object path relative to the build dir. */
  object: string;
  /** Headers (absolute paths) the source included last time, from gcc's -MD depfile. */
  deps: string[];
  /**
   * Paths that did not exist at compile time but would have been included instead of a dep
   * (the same name in an earlier include directory): creating one makes the object stale.
   */
  absent?: string[];
}

export interface BuildState {
  version: 1;
  /** Keyed `<unit>:<absolute source path>`. */
  objects: Record<string, ObjectRecord>;
  /** Unit name -> hash of the inputs of `lib/<unit>.o`. */
  prelink: Record<string, string>;
  /** Hash of the inputs of the final link (image.dbg.elf and image.elf). */
  link?: string;
}

export const STATE_FILE = ".kiln-state.json";

export function emptyState(): BuildState {
  return { version: 1, objects: {}, prelink: {} };
}

/** Reads the state; a missing or unreadable file just means "build everything". */
export function loadState(outDir: string): BuildState {
  try {
    const raw: unknown = JSON.parse(fs.readFileSync(path.join(outDir, STATE_FILE), "utf8"));
    if (raw && typeof raw === "object" && (raw as { version?: unknown }).version === 1) {
      const s = raw as BuildState;
      return { version: 1, objects: s.objects ?? {}, prelink: s.prelink ?? {}, link: s.link };
    }
  } catch {
    // fall through: a fresh state rebuilds everything, which is always correct
  }
  return emptyState();
}

/** Written atomically (rename) so an interrupted build never leaves a half-written state. */
export function saveState(outDir: string, state: BuildState): void {
  const file = path.join(outDir, STATE_FILE);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 1) + "\n");
  fs.renameSync(tmp, file);
}

/** Writes `content` only if it differs, so unchanged config files keep their mtime. Returns true if written. */
export function writeIfChanged(file: string, content: string): boolean {
  try {
    if (fs.readFileSync(file, "utf8") === content) return false;
  } catch {
    // missing: write it
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return true;
}
