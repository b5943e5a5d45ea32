import { test } from "node:test";
import { strict as assert } from "node:assert";
import { bytesByUnit, unitOfInput } from "./size.ts";

// Shaped like GNU ld 2.40 output: discarded sections first, long names on their own line,
// symbol and assignment lines, fill, BYTE data, archive members and a non-allocated section.
const MAP = `
Discarded input sections

 .text.unused   0x0000000000000000       0x40 lib/util.o

Memory Configuration

Name             Origin             Length             Attributes
*default*        0x0000000000000000 0xffffffffffffffff

Linker script and memory map

                0x0000000000100000                . = 0x100000

.text           0x0000000000100000      0x1a0
 *(.text .text.*)
 .text._start   0x0000000000100000       0x10 lib/plat.o
                0x0000000000100000                _start
 .text.a_rather_long_function_name
                0x0000000000100010       0x30 /abs/build/demo/lib/util.o
                0x0000000000100010                a_rather_long_function_name
 *fill*         0x0000000000100040       0x10 
 .text.main     0x0000000000100050       0x20 lib/app.o
 .text          0x0000000000100070      0x130 /usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a(_udivti3.o)

.rodata         0x0000000000101000       0x18
 *(.rodata .rodata.*)
 .rodata.str1.1
                0x0000000000101000        0x8 lib/util.o
                0x0000000000101008        0x1 BYTE 0x0
 .kiln_init.1.050
                0x0000000000101010        0x8 lib/plat.o

.bss            0x0000000000102000      0x100
 .bss.buf       0x0000000000102000      0x100 lib/app.o

.comment        0x0000000000000000       0x27
 .comment       0x0000000000000000       0x27 lib/app.o
LOAD lib/plat.o
LOAD lib/util.o
OUTPUT(image.dbg.elf elf64-x86-64)
`;

test("bytesByUnit attributes allocated input sections to lib/<name>.o and ignores the rest", () => {
  const r = bytesByUnit(MAP, new Set([".text", ".rodata", ".bss"]));
  assert.deepEqual(r, { plat: 0x10 + 0x8, util: 0x30 + 0x8, app: 0x20 + 0x100 });
});

test("non-allocated output sections do not count", () => {
  const r = bytesByUnit(MAP, new Set([".text"]));
  assert.deepEqual(r, { plat: 0x10, util: 0x30, app: 0x20 });
  assert.equal(bytesByUnit(MAP, new Set([".comment"])).app, 0x27, "(what the caller names as allocated is what counts)");
});

test("unitOfInput", () => {
  assert.equal(unitOfInput("lib/print.o"), "print");
  assert.equal(unitOfInput("/x/build/a/lib/plat-kvm.o"), "plat-kvm");
  assert.equal(unitOfInput("/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a(_udivti3.o)"), undefined);
  assert.equal(unitOfInput("obj/print/printf-abc.o"), undefined);
});
