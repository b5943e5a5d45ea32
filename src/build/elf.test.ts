import { test } from "node:test";
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { KilnError } from "../errors.ts";
import { parseElf, PT_LOAD, SHF_ALLOC, SHT_NOBITS } from "./elf.ts";

test("reads sections, segments and symbols of a linked image as numbers", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-buildelf-"));
  try {
    writeFileSync(path.join(dir, "a.c"), "long counter = 7;\nchar pad[8192];\nvoid _start(void) { for (;;) counter++; }\n");
    const img = path.join(dir, "img");
    execFileSync("gcc", ["-O1", "-nostdlib", "-static", "-no-pie", "-o", img, path.join(dir, "a.c")]);
    const elf = parseElf(readFileSync(img), img);
    const nm = execFileSync("nm", [img], { encoding: "utf8" });
    const addr = (name: string): number => Number.parseInt(new RegExp(`^([0-9a-f]+) \\w ${name}$`, "m").exec(nm)![1]!, 16);
    assert.equal(elf.entry, addr("_start"));
    assert.equal(elf.symbol("counter")?.value, addr("counter"));
    assert.equal(elf.symbol("counter")?.size, 8);
    assert.equal(elf.symbol("no_such_symbol"), undefined);
    const bss = elf.section(".bss")!;
    assert.equal(bss.type, SHT_NOBITS);
    assert.ok(bss.flags & SHF_ALLOC);
    assert.ok(bss.size >= 8192);
    const load = elf.segments.filter((s) => s.type === PT_LOAD);
    assert.ok(load.some((s) => s.vaddr <= bss.addr && bss.addr + bss.size <= s.vaddr + s.memsz), ".bss inside a PT_LOAD");

    execFileSync("strip", [img]);
    assert.deepEqual(parseElf(readFileSync(img), img).symbols(), [], "stripped: no symbols");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a broken file is a KilnError naming it and the problem, never a RangeError", () => {
  const refuses = (buf: Buffer, text: RegExp) =>
    assert.throws(
      () => parseElf(buf, "x.elf").symbols(),
      (e: unknown) => e instanceof KilnError && /^x\.elf: not a usable ELF64 image: /.test(e.message) && text.test(e.message) && /Rebuild it/.test(e.message),
    );
  refuses(Buffer.from("not an elf"), /bad magic/);
  const h = Buffer.alloc(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  refuses(Buffer.concat([h.subarray(0, 8)]), /shorter than an ELF64 header/);
  refuses(Buffer.from(h).fill(1, 4, 5), /not ELF64/);
  const shdrs = Buffer.from(h);
  shdrs.writeBigUInt64LE(64n, 40); // e_shoff
  shdrs.writeUInt16LE(64, 58); // e_shentsize
  shdrs.writeUInt16LE(3, 60); // e_shnum: 3 headers, none in the file
  refuses(shdrs, /section headers at 0x40 run past the end \(64 bytes\)/);
  // A symbol table past the end of the file (the old reader threw a RangeError from symbols()).
  const symtab = Buffer.concat([shdrs, Buffer.alloc(3 * 64)]);
  symtab.writeUInt32LE(2, 64 + 64 + 4); // section 1: SHT_SYMTAB
  symtab.writeBigUInt64LE(0x10000n, 64 + 64 + 24); // sh_offset
  symtab.writeBigUInt64LE(24n, 64 + 64 + 32); // sh_size
  refuses(symtab, /section 1 needs bytes 0x10000-0x10018 of a 256-byte file/);
  const entry = Buffer.from(h);
  entry.writeBigUInt64LE(1n << 60n, 24);
  refuses(entry, /e_entry is 0x1000000000000000, beyond 2\^53/);
});
