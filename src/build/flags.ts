// Compiler flags: the fixed freestanding set (docs/architecture.md section 4) plus per-unit parts.
import * as fs from "node:fs";
import * as path from "node:path";
import type { ResolvedConfig } from "../config/types.ts";
import type { BuildUnit } from "./unit.ts";

/** Always on. `-O2` is separate so `--debug` can replace it. */
export const BASE_CFLAGS: readonly string[] = [
  "-std=c11",
  "-ffreestanding",
  "-fno-pic",
  "-fno-pie",
  "-mcmodel=small",
  "-fno-stack-protector",
  "-fno-omit-frame-pointer",
  "-fno-asynchronous-unwind-tables",
  "-ffunction-sections",
  "-fdata-sections",
  "-Wall",
  "-Wextra",
  "-Werror",
];

/** Optimisation and flavour flags: shared by compile and (with --lto) the LTO prelink. */
export function flavourFlags(cfg: Pick<ResolvedConfig, "debug" | "lto">): string[] {
  const f = cfg.debug ? ["-O0", "-g"] : ["-O2"];
  if (cfg.lto) f.push("-flto");
  return f;
}

export interface FlagContext {
  /** gcc's freestanding header dir (`gcc -print-file-name=include`). */
  gccInclude: string;
  /** Absolute path of the directory of generated configuration headers (`<unit>.h` each). */
  configDir: string;
}

/** The include dir of every selected library that has one: the only headers units may see. */
export function includeDirs(cfg: ResolvedConfig): string[] {
  return cfg.libraries.map((l) => path.join(l.manifest.dir, "include")).filter((d) => fs.existsSync(d));
}

/** Full flag list for compiling one source of `unit` (without -c, -o or dependency flags). */
export function compileFlags(cfg: ResolvedConfig, unit: BuildUnit, ctx: FlagContext): string[] {
  return [
    ...BASE_CFLAGS,
    ...flavourFlags(cfg),
    // Only gcc's own headers (stdint.h, stddef.h ...), never the host libc in /usr/include.
    "-nostdinc",
    "-isystem",
    ctx.gccInclude,
    "-include",
    path.join(ctx.configDir, `${unit.name}.h`),
    ...includeDirs(cfg).flatMap((d) => ["-I", d]),
    ...unit.cflags,
  ];
}
