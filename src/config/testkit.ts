// Test helper (not part of the toolchain): builds small kernel trees and apps in temp directories.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import YAML from "yaml";

export interface Tree {
  root: string;
  kernel: string;
  /** Writes `kernel/<rel>/library.yaml` (object or raw text) and touches the files it lists. */
  lib(rel: string, manifest: object | string, files?: string[]): string;
  /** Writes `apps/<name>/kiln.yaml` and touches its files; returns the app dir. */
  app(name: string, manifest: object | string, files?: string[]): string;
  file(rel: string, text?: string): string;
}

const made: string[] = [];
process.on("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

export function makeTree(): Tree {
  const root = mkdtempSync(path.join(tmpdir(), "kiln-config-"));
  made.push(root);
  const kernel = path.join(root, "kernel");
  mkdirSync(kernel);
  const file = (rel: string, text = "") => {
    const p = path.join(root, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  };
  const sourcesOf = (m: object | string): string[] => {
    if (typeof m === "string") return [];
    const out: string[] = [];
    const r = m as { sources?: Array<string | { file: string }>; linker_script?: string };
    for (const s of r.sources ?? []) out.push(typeof s === "string" ? s : s.file);
    if (r.linker_script) out.push(r.linker_script);
    return out;
  };
  return {
    root,
    kernel,
    file,
    lib(rel, manifest, files = sourcesOf(manifest)) {
      const dir = path.join("kernel", rel);
      file(path.join(dir, "library.yaml"), typeof manifest === "string" ? manifest : YAML.stringify(manifest));
      for (const f of files) file(path.join(dir, f), "/* test */\n");
      return path.join(root, dir);
    },
    app(name, manifest, files = sourcesOf(manifest)) {
      const dir = path.join("apps", name);
      file(path.join(dir, "kiln.yaml"), typeof manifest === "string" ? manifest : YAML.stringify(manifest));
      for (const f of files) file(path.join(dir, f), "int main(void) { return 0; }\n");
      return path.join(root, dir);
    },
  };
}

/** A minimal platform library: every resolvable tree needs one with a linker script. */
export function addPlatform(t: Tree, extra: Record<string, unknown> = {}): void {
  t.lib("plat/kvm", { name: "plat-kvm", description: "platform", provides: ["plat"], sources: ["plat.c"], linker_script: "kiln.ld", ...extra });
}
