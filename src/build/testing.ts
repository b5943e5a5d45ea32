// Test fixtures for the build's own tests: tiny libraries in a temp dir, a linker script shaped
// like the real one (1 MiB base, W^X segments, a PVH-style note, .kiln.pagetables) and
// hand-made ResolvedConfig objects, so these tests never depend on kernel/ or the resolver.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { LibraryManifest, ResolvedConfig, ResolvedLibrary } from "../config/types.ts";
import type { ConfigMacro } from "../config/index.ts";

export const FIXTURE_LD = `ENTRY(_start)
PHDRS {
  text PT_LOAD FLAGS(5);
  rodata PT_LOAD FLAGS(4);
  data PT_LOAD FLAGS(6);
  note PT_NOTE FLAGS(4);
}
SECTIONS {
  . = 0x100000;
  .text : { *(.text .text.*) } :text
  . = ALIGN(4096);
  .note.fixture : { KEEP(*(.note.fixture)) } :rodata :note
  .rodata : {
    *(.rodata .rodata.*)
    . = ALIGN(8);
    kiln_init_start = .;
    KEEP(*(SORT(.kiln_init.*)))
    kiln_init_end = .;
    kiln_tests_start = .;
    KEEP(*(.kiln_tests))
    kiln_tests_end = .;
  } :rodata
  . = ALIGN(4096);
  .data : { *(.data .data.*) } :data
  .kiln.pagetables ALIGN(4096) : { kiln_pml4 = .; BYTE(0); . = kiln_pml4 + 5 * 4096; } :data
  .bss : { *(.bss .bss.*) } :data
  /DISCARD/ : { *(.comment) *(.eh_frame) *(.note.GNU-stack) }
}
`;

const START_S = `/* Fixture entry: calls main, then spins. A note like the PVH one must survive stripping. */
.section .note.fixture, "a", @note
.balign 4
.long 4, 4, 18
.asciz "Xen"
.long _start
.section .text._start, "ax"
.globl _start
_start:
  call main
1: pause
  jmp 1b
.section .note.GNU-stack, "", @progbits
`;

export interface Fixture {
  root: string;
  /** A ResolvedConfig over the fixture (libraries plat, util; app `demo`). */
  cfg(over?: Partial<Pick<ResolvedConfig, "lto" | "debug" | "test">>): ResolvedConfig;
  /** The configuration macros of that configuration, util's option `bias` = `value`. */
  macros(value?: number): ConfigMacro[];
  write(rel: string, text: string): string;
  cleanup(): void;
}

function manifest(root: string, name: string, m: Partial<LibraryManifest>): LibraryManifest {
  const dir = path.join(root, "kernel", name);
  return {
    name,
    description: `fixture ${name}`,
    dir,
    manifestPath: path.join(dir, "library.yaml"),
    provides: [],
    requires: [],
    implementedBy: [],
    options: [],
    sources: [],
    exports: [],
    cflags: [],
    ports: [],
    ...m,
  };
}

export function makeFixture(): Fixture {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-build-test-"));
  const write = (rel: string, text: string): string => {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    return p;
  };
  write("kernel/plat/kiln.ld", FIXTURE_LD);
  write("kernel/plat/start.S", START_S);
  write("kernel/plat/include/plat/plat.h", "#define PLAT_MAGIC 7\n");
  write("kernel/util/include/util/util.h", '#include <util/detail.h>\nint util_add(int a, int b);\n');
  write("kernel/util/include/util/detail.h", "#define UTIL_DETAIL 1\n");
  write(
    "kernel/util/util.c",
    `#include <util/util.h>
/* Global but not exported: prelink must make it local. */
int util_private(int x) { return x + UTIL_DETAIL + CONFIG_UTIL_BIAS; }
/* Zeroed memory: counted apart from image bytes in the size report. */
static int util_scratch[2048];
int util_add(int a, int b) { util_scratch[a & 2047] = b; return util_private(a) + b + util_scratch[b & 2047]; }
`,
  );
  write("kernel/util/other.c", "int util_other(void) { return 3; }\n");
  write(
    "app/main.c",
    `#include <util/util.h>
#include <plat/plat.h>
int main(void) { return util_add(PLAT_MAGIC, 2); }
`,
  );
  const lib = (m: LibraryManifest, sources: string[]): ResolvedLibrary => ({
    manifest: m,
    options: [],
    sources: sources.map((s) => path.join(m.dir, s)),
    selectedBy: "app",
  });
  return {
    root,
    write,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
    macros: (value = 0) => [
      { name: "CONFIG_LIB_PLAT", value: "1", owner: "plat" },
      { name: "CONFIG_LIB_UTIL", value: "1", owner: "util" },
      { name: "CONFIG_UTIL_BIAS", value: String(value), owner: "util" },
    ],
    cfg: (over = {}) => ({
      app: {
        name: "demo",
        dir: path.join(root, "app"),
        manifestPath: path.join(root, "app", "kiln.yaml"),
        target: "kvm-x86_64",
        memory: 8 << 20,
        cmdline: "",
        sources: ["main.c"],
        libraries: {},
        cflags: [],
      },
      libraries: [
        lib(manifest(root, "plat", { linkerScript: "kiln.ld", exports: ["_start"] }), ["start.S"]),
        lib(manifest(root, "util", { exports: ["util_add"] }), ["util.c", "other.c"]),
      ],
      providers: {},
      lto: over.lto ?? false,
      debug: over.debug ?? false,
      test: over.test ?? false,
    }),
  };
}
