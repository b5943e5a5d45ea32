// Finding every library under kernel/: each directory holding a library.yaml is one library.
import { readdir } from "node:fs/promises";
import * as path from "node:path";
import { kernelRoot } from "../paths.ts";
import type { LibraryManifest } from "./types.ts";
import { loadLibraryManifest } from "./manifest.ts";
import { configError, displayPath } from "./yaml.ts";

async function findManifests(dir: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.isFile() && e.name === "library.yaml") out.push(path.join(dir, e.name));
  }
  for (const e of entries) {
    if (e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules" && e.name !== "build") {
      await findManifests(path.join(dir, e.name), out);
    }
  }
}

/** Loads every library under `root`, keyed by name (in path order); duplicate names are an error. */
export async function loadLibraries(root: string = kernelRoot): Promise<Map<string, LibraryManifest>> {
  const files: string[] = [];
  await findManifests(path.resolve(root), files);
  const manifests = await Promise.all(files.map((f) => loadLibraryManifest(f)));
  const libs = new Map<string, LibraryManifest>();
  for (const m of manifests) {
    const other = libs.get(m.name);
    if (other) {
      throw configError(
        displayPath(m.manifestPath),
        "name",
        `library name "${m.name}" is already used by ${displayPath(other.manifestPath)}`,
        "Library names are unique across kernel/: rename one of them",
      );
    }
    libs.set(m.name, m);
  }
  return libs;
}
