import { test } from "node:test";
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkPlacement, parseElf } from "./elf.ts";
import { VmImageError, type ImageErrorCode } from "./errors.ts";
import { buildElf, goodElfSpec, note, pvhNote, u64le, type ElfSpec } from "./testing/elf-builder.ts";
import { linkTestImage } from "../elf/testing.ts";

const MiB = 1024 * 1024;

function refuses(bytes: Uint8Array, code: ImageErrorCode, text: RegExp, memory = 8 * MiB): void {
  assert.throws(
    () => checkPlacement(parseElf(bytes, "img.elf"), memory, "img.elf"),
    (e: unknown) => {
      assert.ok(e instanceof VmImageError, `expected VmImageError, got ${String(e)}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, /^img\.elf: /);
      assert.match(e.message, text);
      return true;
    },
  );
}

function withSpec(f: (s: ElfSpec) => void): Uint8Array {
  const s = goodElfSpec();
  f(s);
  return buildElf(s);
}

test("parses a good image: PVH entry, segments sorted, bss size kept", () => {
  const img = parseElf(buildElf(goodElfSpec()), "img.elf");
  assert.equal(img.pvhEntry, 0x100010);
  assert.equal(img.elfEntry, 0x100000);
  assert.deepEqual(img.segments.map((s) => [s.paddr, s.filesz, s.memsz]), [[0x100000, 64, 64], [0x101000, 4, 0x2000]]);
  checkPlacement(img, 2 * MiB, "img.elf");
});

test("accepts an 8-byte PVH descriptor and skips other notes", () => {
  const img = parseElf(
    withSpec((s) => {
      s.segments[2]!.data = new Uint8Array([...note("GNU", 3, new Uint8Array(20)), ...note("Xen", 18, u64le(0x100020n))]);
    }),
    "img.elf",
  );
  assert.equal(img.pvhEntry, 0x100020);
});

test("refusals name the problem", () => {
  refuses(new Uint8Array([1, 2, 3]), "not-elf", /not an ELF file/);
  refuses(new TextEncoder().encode("#!/bin/sh\necho hi\n"), "not-elf", /bad magic/);
  refuses(buildElf(goodElfSpec()).subarray(0, 40), "truncated", /shorter than an ELF64 header/);
  refuses(withSpec((s) => (s.cls = 1)), "not-elf64", /not ELF64/);
  refuses(withSpec((s) => (s.data = 2)), "not-little-endian", /little-endian/);
  refuses(withSpec((s) => (s.machine = 183)), "not-x86_64", /machine 183 is not x86_64/);
  refuses(withSpec((s) => (s.type = 1)), "not-exec", /ELF type 1 is not an executable/);
  refuses(withSpec((s) => (s.type = 3)), "not-exec", /ELF type 3/);
  refuses(withSpec((s) => (s.phnum = 65535)), "absurd-count", /e_phnum is 65535/);
  refuses(withSpec((s) => (s.phnum = 0)), "absurd-count", /e_phnum is 0/);
  refuses(withSpec((s) => (s.phentsize = 32)), "absurd-count", /e_phentsize is 32/);
  refuses(withSpec((s) => (s.phnum = 60)), "truncated", /program headers .* run past the end/);
  refuses(buildElf(goodElfSpec()).subarray(0, 250), "truncated", /segment \d needs bytes/);
  refuses(withSpec((s) => (s.segments[2]!.data = note("GNU", 3, new Uint8Array(8)))), "no-pvh-note", /no PVH entry note/);
  refuses(withSpec((s) => s.segments.pop()), "no-pvh-note", /Xen ELF note type 18/);
  refuses(withSpec((s) => (s.segments[2]!.data = note("Xen", 18, new Uint8Array(2)))), "bad-note", /2-byte descriptor/);
  refuses(withSpec((s) => (s.segments[2]!.data = note("Xen", 18, u64le(0x1_0000_0000n)))), "bad-note", /not a 32-bit address/);
  refuses(
    withSpec((s) => {
      const n = pvhNote(0x100010);
      new DataView(n.buffer).setUint32(4, 0xfffffff0, true); // descsz pointing far past the segment
      s.segments[2]!.data = n;
    }),
    "bad-note",
    /descriptor size 4294967280 runs past/,
  );
  refuses(withSpec((s) => (s.segments[2]!.data = new Uint8Array(8))), "bad-note", /note header runs past/);
  refuses(withSpec((s) => (s.segments[2]!.data = pvhNote(0x200000))), "entry-outside", /PVH entry 0x200000 is not inside/);
  refuses(withSpec((s) => (s.segments[2]!.data = pvhNote(0x101000))), "entry-outside", /not inside an executable/);
  refuses(withSpec((s) => (s.segments[1]!.memsz = 2)), "bad-segment", /p_filesz 0x4 > p_memsz 0x2/);
  refuses(withSpec((s) => s.segments.splice(0, 2, { paddr: 0x100000, data: new Uint8Array(0) })), "bad-segment", /no PT_LOAD segment/);
  refuses(withSpec((s) => (s.segments[1]!.paddr = 0x100020)), "segment-overlap", /segments at 0x100000 and 0x100020 overlap/);
  refuses(withSpec((s) => (s.segments[1]!.paddr = 0x3000)), "reserved-overlap", /segment at 0x3000-0x5000 overlaps the VMM's boot pages below 0x4000/);
  refuses(withSpec((s) => (s.segments[1]!.memsz = 4 * MiB)), "beyond-memory", /does not fit in 2097152 bytes.*at least 6 MiB/, 2 * MiB);
  refuses(withSpec((s) => (s.segments[1]!.paddr = 2 ** 60)), "bad-segment", /beyond any guest address/);
});

test("never reads outside the file, whatever the header says (fuzzed corruptions)", () => {
  const good = buildElf(goodElfSpec());
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let i = 0; i < 3000; i++) {
    const bad = good.slice(0, 1 + rand(good.length));
    for (let k = 0; k < 1 + rand(6); k++) bad[rand(bad.length)] = rand(256);
    try {
      checkPlacement(parseElf(bad, "f.elf"), 8 * MiB, "f.elf");
    } catch (e) {
      assert.ok(e instanceof VmImageError, `corruption ${i} threw ${String(e)}`);
    }
  }
});

test("parses an image linked here by gcc and ld", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-elf-"));
  try {
    const imagePath = linkTestImage(
      dir,
      [
        '.section .note.Xen, "a", @note',
        ".p2align 2",
        ".long 4, 4, 18",
        '.asciz "Xen"',
        ".long _start32",
        ".text",
        ".code32",
        ".globl _start32",
        "_start32: mov $0x501, %dx",
        "  xor %eax, %eax",
        "  out %al, %dx",
        "  hlt",
        ".bss",
        ".skip 8192",
        "",
      ].join("\n"),
      "SECTIONS { . = 0x100000; .text : { *(.text) } .note : { *(.note.Xen) } .bss : { *(.bss) } }\n",
      "_start32",
    );
    const img = parseElf(readFileSync(imagePath), "img");
    const sym = execFileSync("nm", [imagePath], { encoding: "utf8" });
    const start = Number.parseInt(/^([0-9a-f]+) T _start32$/m.exec(sym)![1]!, 16);
    assert.equal(img.pvhEntry, start);
    checkPlacement(img, 2 * MiB, "img");
    assert.ok(img.segments.some((s) => s.memsz - s.filesz >= 8192), "bss segment found");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


test("Kiln device notes: the devices an image asks for; an unknown one is refused", () => {
  const withDevices = (desc: string) =>
    withSpec((s) => (s.segments[2]!.data = new Uint8Array([...pvhNote(0x100010), ...note("Kiln", 1, new TextEncoder().encode(desc))])));
  assert.deepEqual(parseElf(buildElf(goodElfSpec()), "img.elf").devices, []);
  assert.deepEqual(parseElf(withDevices("virtio-console\0\0"), "img.elf").devices, ["virtio-console"]);
  assert.deepEqual(parseElf(withDevices("virtio-net\0\0"), "img.elf").devices, ["virtio-net"]);
  refuses(withDevices("virtio-gpu\0"), "bad-note", /asks for device "virtio-gpu", which this Kiln does not know \(known: virtio-console, virtio-net\)/);
  // Other owners' notes of type 1 (GNU ABI tag, for instance) mean nothing here.
  assert.deepEqual(parseElf(withSpec((s) => (s.segments[2]!.data = new Uint8Array([...pvhNote(0x100010), ...note("GNU", 1, new Uint8Array(16))]))), "img.elf").devices, []);
});
