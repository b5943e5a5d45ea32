// Test support: a small ELF image assembled and linked here with gcc and ld, for the tests of
// the reader, the build and the VMM's loader.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";

/** Assembles `asm`, links it with `linkerScript` and entry `entry` in `dir`; returns the image path. */
export function linkTestImage(dir: string, asm: string, linkerScript: string, entry: string): string {
  const src = path.join(dir, "image.S");
  const obj = path.join(dir, "image.o");
  const script = path.join(dir, "image.ld");
  const image = path.join(dir, "image.elf");
  writeFileSync(src, asm);
  writeFileSync(script, linkerScript);
  execFileSync("gcc", ["-c", "-o", obj, src]);
  execFileSync("ld", ["--no-warn-rwx-segments", "-nostdlib", "-static", "-T", script, "-e", entry, "-o", image, obj]);
  return image;
}
