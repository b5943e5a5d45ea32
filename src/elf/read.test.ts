import { after, before, test } from "node:test";
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { EM_X86_64, ET_EXEC, PT_LOAD, PT_NOTE, SHT_NOBITS, SHT_SYMTAB } from "./constants.ts";
import {
  contents,
  ElfReadError,
  readHeader,
  readNotes,
  readProgramHeaders,
  readSectionHeaders,
  readSymbols,
  toNumber,
  type ElfReadErrorCode,
} from "./read.ts";
import { linkTestImage } from "./testing.ts";

let dir = "";
let imagePath = "";
let image = new Uint8Array(0);

// A small image linked here by gcc and ld: code, data, .bss, a note and a symbol table.
before(() => {
  dir = mkdtempSync(path.join(tmpdir(), "kiln-elfread-"));
  imagePath = linkTestImage(
    dir,
    [
      '.section .note.Xen, "a", @note',
      ".p2align 2",
      ".long 4, 4, 18",
      '.asciz "Xen"',
      ".long _start",
      ".text",
      ".globl _start",
      "_start: hlt",
      ".data",
      ".globl counter",
      "counter: .quad 7",
      ".bss",
      ".skip 8192",
      "",
    ].join("\n"),
    "SECTIONS { . = 0x100000; .text : { *(.text) } .note : { *(.note.Xen) } . = ALIGN(4096); .data : { *(.data) } .bss : { *(.bss) } }\n",
    "_start",
  );
  image = new Uint8Array(readFileSync(imagePath));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function refuses(f: () => unknown, code: ElfReadErrorCode, text: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ElfReadError, `expected ElfReadError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, text);
    return true;
  });
}

/** A copy of the image with one header field rewritten. */
function patched(f: (v: DataView) => void): Uint8Array {
  const b = image.slice();
  f(new DataView(b.buffer));
  return b;
}

test("decodes what readelf and nm see", () => {
  const h = readHeader(image);
  assert.equal(h.type, ET_EXEC);
  assert.equal(h.machine, EM_X86_64);
  const nm = execFileSync("nm", [imagePath], { encoding: "utf8" });
  const addr = (name: string): bigint => BigInt("0x" + new RegExp(`^([0-9a-f]+) \\w ${name}$`, "m").exec(nm)![1]!);
  assert.equal(h.entry, addr("_start"));

  const sections = readSectionHeaders(image, h);
  const readelf = execFileSync("readelf", ["-SW", imagePath], { encoding: "utf8" });
  const listed = [...readelf.matchAll(/^\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)/gm)].map((m) => [m[1], BigInt("0x" + m[2]), BigInt("0x" + m[3]), BigInt("0x" + m[4])]);
  assert.deepEqual(sections.slice(1).map((s) => [s.name, s.addr, s.offset, s.size]), listed.slice(1), "readelf lists [0] as NULL");
  assert.ok(listed.length > 5);
  assert.equal(sections.find((s) => s.name === ".bss")?.type, SHT_NOBITS);

  const symtab = sections.find((s) => s.type === SHT_SYMTAB)!;
  const syms = readSymbols(image, sections, symtab);
  const counter = syms.find((s) => s.name === "counter")!;
  assert.equal(counter.value, addr("counter"));
  assert.equal(counter.bind, 1, "global");
  assert.equal(sections[counter.shndx]?.name, ".data");

  const phs = readProgramHeaders(image, h);
  assert.ok(phs.some((p) => p.type === PT_LOAD && p.memsz - p.filesz >= 8192n), "the .bss segment");
  const notes = phs.filter((p) => p.type === PT_NOTE).flatMap((p) => [...readNotes(image, p.offset, p.filesz, 4)]);
  assert.deepEqual(notes.map((n) => [n.name, n.namesz, n.type, n.desc.length]), [["Xen", 4, 18, 4]]);
  assert.equal(BigInt(new DataView(notes[0]!.desc.buffer, notes[0]!.desc.byteOffset).getUint32(0, true)), addr("_start"));
});

test("refuses a bad header in the order magic, size, class, byte order", () => {
  refuses(() => readHeader(new Uint8Array([0x7f, 0x45])), "not-elf", /bad magic/);
  refuses(() => readHeader(new TextEncoder().encode("#!/bin/sh\n")), "not-elf", /bad magic/);
  refuses(() => readHeader(image.subarray(0, 40)), "truncated", /40 bytes, shorter than an ELF64 header/);
  refuses(() => readHeader(patched((v) => v.setUint8(4, 1))), "not-elf64", /EI_CLASS 1/);
  refuses(() => readHeader(patched((v) => v.setUint8(5, 2))), "not-little-endian", /EI_DATA 2/);
});

test("refuses tables, contents and names outside the file", () => {
  const at = (b: Uint8Array) => () => readSectionHeaders(b, readHeader(b));
  const ph = (b: Uint8Array) => () => readProgramHeaders(b, readHeader(b));
  refuses(ph(patched((v) => v.setBigUint64(32, 0xffff_ffff_ffff_ff00n, true))), "truncated", /program headers at 0xffffffffffffff00 run past the end/);
  refuses(ph(patched((v) => v.setUint16(56, 0xffff, true))), "truncated", /program headers .* run past the end/);
  refuses(ph(patched((v) => v.setUint16(54, 32, true))), "bad-entsize", /e_phentsize is 32/);
  refuses(at(patched((v) => v.setBigUint64(40, BigInt(image.length - 10), true))), "truncated", /section headers at .* run past the end/);
  refuses(at(patched((v) => v.setUint16(58, 40, true))), "bad-entsize", /e_shentsize is 40/);
  refuses(at(patched((v) => v.setUint16(62, 200, true))), "bad-index", /e_shstrndx 200 is not a section/);
  const h = readHeader(image);
  const shdr = (i: number) => Number(h.shoff) + i * h.shentsize;
  // Section 1's contents pushed past the end; its name pushed outside the name table.
  refuses(at(patched((v) => v.setBigUint64(shdr(1) + 24, BigInt(image.length), true))), "truncated", /section 1 needs bytes/);
  refuses(at(patched((v) => v.setUint32(shdr(1), 0xfffffff0, true))), "bad-string", /name of section 1 at offset 4294967280/);
  const unnamed = patched((v) => v.setUint16(62, 0, true));
  assert.equal(readSectionHeaders(unnamed, readHeader(unnamed))[1]?.name, "", "no name table: no names");

  const sections = readSectionHeaders(image, h);
  const symtab = sections.find((s) => s.type === SHT_SYMTAB)!;
  refuses(() => readSymbols(image, sections, { ...symtab, link: 99 }), "bad-index", /sh_link 99/);
  refuses(() => readSymbols(image, sections, { ...symtab, entsize: 16n }), "bad-entsize", /sh_entsize is 16/);
  refuses(() => readSymbols(image, sections, { ...symtab, size: BigInt(image.length) }), "truncated", /needs bytes/);
  refuses(() => contents(image, 2n ** 63n, 2n ** 63n, "x"), "truncated", /x needs bytes 0x8000000000000000-0x10000000000000000/);
  assert.equal(contents(image, image.length, 0, "empty at the end").length, 0);
  refuses(() => toNumber(2n ** 60n, "p_paddr"), "too-large", /p_paddr is 0x1000000000000000, beyond 2\^53/);
  assert.equal(toNumber(2n ** 53n - 1n, "x"), Number.MAX_SAFE_INTEGER);
});

test("notes: sizes are checked before use and decoding is lazy", () => {
  const note = (namesz: number, descsz: number, extra: number[] = []) => {
    const b = new Uint8Array(12 + extra.length);
    const v = new DataView(b.buffer);
    v.setUint32(0, namesz, true);
    v.setUint32(4, descsz, true);
    v.setUint32(8, 1, true);
    b.set(extra, 12);
    return b;
  };
  refuses(() => [...readNotes(new Uint8Array(8), 0, 8, 4)], "bad-note", /a note header runs past the notes/);
  refuses(() => [...readNotes(note(100, 0), 0, 12, 4)], "bad-note", /name size 100 runs past the notes/);
  refuses(() => [...readNotes(note(4, 0xfffffff0, [0x58, 0, 0, 0]), 0, 16, 4, "segment 2")], "bad-note", /descriptor size 4294967280 runs past segment 2/);
  refuses(() => [...readNotes(note(0, 0), 0, 13, 4)], "truncated", /notes needs bytes/);
  const good = note(2, 4, [0x41, 0, 0, 0, 9, 0, 0, 0]);
  const first = readNotes(new Uint8Array([...good, 1, 2, 3]), 0, good.length + 3, 4).next();
  assert.equal(first.done, false, "a good first note is returned before the broken second one is read");
  assert.deepEqual(first.value && [first.value.name, first.value.namesz, [...first.value.desc]], ["A", 2, [9, 0, 0, 0]]);
  const name8 = [...readNotes(new Uint8Array([...note(5, 0, [0x47, 0x4e, 0x55, 0x55, 0x55, 0, 0, 0])]), 0, 20, 8)];
  assert.equal(name8[0]?.name, "GNUUU");
  refuses(() => [...readNotes(new Uint8Array([...note(5, 4, [0x47, 0x4e, 0x55, 0x55, 0x55, 0, 0, 0, 1, 2, 3, 4])]), 0, 22, 8)], "bad-note", /descriptor size 4 runs past/);
});

test("never reads outside the file or throws anything but ElfReadError (fuzzed corruptions)", () => {
  let seed = 4242;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const h = readHeader(image);
  const hot = Number(h.shoff);
  let decoded = 0;
  for (let i = 0; i < 3000; i++) {
    const bad = image.slice(0, rand(5) === 0 ? 1 + rand(image.length) : image.length);
    for (let k = 0; k < 1 + rand(6); k++) {
      const where = [rand(64), 64 + rand(3 * 56), hot + rand(image.length - hot), rand(bad.length)][rand(4)]!;
      if (where < bad.length) bad[where] = rand(3) === 0 ? 0xff : rand(256);
    }
    try {
      const hh = readHeader(bad);
      const sections = readSectionHeaders(bad, hh);
      for (const s of sections) if (s.type === SHT_SYMTAB) readSymbols(bad, sections, s);
      for (const p of readProgramHeaders(bad, hh)) if (p.type === PT_NOTE) for (const n of readNotes(bad, p.offset, p.filesz, 4)) n.desc.at(0);
      decoded++;
    } catch (e) {
      assert.ok(e instanceof ElfReadError, `corruption ${i} threw ${String(e)}`);
    }
  }
  assert.ok(decoded > 0 && decoded < 3000, `${decoded} of 3000 decoded: the corruptions hit both good and bad cases`);
});
