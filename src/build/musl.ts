// Apps on Debian's musl (kiln.yaml `libc: musl`): the app's code and musl's libc.a become one
// unit, so musl's memcpy, printf ... stay private to the app and never meet the kernel's nolibc.
// The unit exports only musl's entry and the app's main, renamed so boot's main (library musl,
// which builds the process's initial stack) can call them. `kiln cc` compiles with the same
// flags, so objects built by an app's own build system link the same way.
import * as fs from "node:fs";
import * as path from "node:path";
import { KilnError } from "../errors.ts";

export const MUSL_INCLUDE = "/usr/include/x86_64-linux-musl";
export const MUSL_LIB = "/usr/lib/x86_64-linux-musl";
export const MUSL_LIBC = path.join(MUSL_LIB, "libc.a");

/** Names the app unit exports after the renames (what kernel/lib/musl/start.c calls). */
export const MUSL_RENAMES: Readonly<Record<string, string>> = {
  main: "kiln_musl_main",
  __libc_start_main: "kiln_musl_libc_start_main",
};

/**
 * Flags for compiling an app's C against musl: musl's headers then gcc's own, code the image
 * can link (non-PIC, small model, one section per function for --gc-sections). No -Werror:
 * this is the app's own code, warnings are its business.
 */
export function muslCompileFlags(gccInclude: string): string[] {
  return [
    "-nostdinc",
    "-isystem",
    MUSL_INCLUDE,
    "-isystem",
    gccInclude,
    "-fno-pic",
    "-fno-pie",
    "-mcmodel=small",
    "-fno-stack-protector",
    "-fno-asynchronous-unwind-tables",
    "-ffunction-sections",
    "-fdata-sections",
  ];
}

/** Fails with the fix when Debian's musl is not installed. */
export function checkMuslInstalled(): void {
  for (const f of [MUSL_LIBC, path.join(MUSL_INCLUDE, "stdio.h")]) {
    if (!fs.existsSync(f)) throw new KilnError(`libc: musl needs ${f}, which is missing. Install Debian's musl: sudo apt-get install musl-dev musl-tools`);
  }
}
