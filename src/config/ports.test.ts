import { test } from "node:test";
import assert from "node:assert/strict";
import { ioBitmap, ioBitmapMacros, parsePortRange, portAllowed, portRanges } from "./ports.ts";
import type { ResolvedLibrary } from "./types.ts";

test("port ranges: numbers, hex and decimal strings, ranges; bad ones say why", () => {
  assert.deepEqual(parsePortRange(0x501), { lo: 0x501, hi: 0x501 });
  assert.deepEqual(parsePortRange("0x3f8-0x3ff"), { lo: 0x3f8, hi: 0x3ff });
  assert.deepEqual(parsePortRange("64 - 67"), { lo: 64, hi: 67 });
  assert.match(parsePortRange("0x3ff-0x3f8") as string, /ends before it starts/);
  assert.match(parsePortRange("0x10000") as string, /ports are 0-0xffff/);
  assert.match(parsePortRange(-1) as string, /ports are 0-0xffff/);
  assert.match(parsePortRange("com1") as string, /is not a port or a range/);
  assert.deepEqual(portRanges([0x40, { range: "0x43", why: "PIT" }]), [{ lo: 0x40, hi: 0x40 }, { lo: 0x43, hi: 0x43, why: "PIT" }]);
  assert.deepEqual(portRanges([0x40, "x"]), { index: 1, problem: '"x" is not a port or a range (write 0x3f8-0x3ff or 0x501)' });
});

test("the I/O bitmap allows exactly the declared ports and ends at the highest", () => {
  const ranges = [{ lo: 0x3f8, hi: 0x3ff }, { lo: 0x501, hi: 0x501 }];
  const b = ioBitmap(ranges);
  assert.equal(b.length, (0x501 >> 3) + 1);
  const allowed = (p: number) => p >> 3 < b.length && !(b[p >> 3]! & (1 << (p & 7)));
  for (let p = 0; p < 0x600; p++) assert.equal(allowed(p), portAllowed(ranges, p), `port 0x${p.toString(16)}`);
  assert.equal(ioBitmap([]).length, 0);
});

test("the bitmap becomes image-wide macros, a byte list naming who declared what; nothing without ports", () => {
  const lib = (name: string, ports: { lo: number; hi: number }[]) => ({ manifest: { name, ports } }) as unknown as ResolvedLibrary;
  assert.deepEqual(ioBitmapMacros([lib("a", [])]), []);
  const macros = ioBitmapMacros([lib("uart", [{ lo: 0x3f8, hi: 0x3ff }]), lib("exit", [{ lo: 0x501, hi: 0x501 }])]);
  assert.deepEqual(macros.map((m) => m.name), ["CONFIG_KILN_IOBITMAP_LEN", "CONFIG_KILN_IOBITMAP"]);
  assert.equal(macros[0]!.value, "161");
  const list = macros[1]!.value;
  assert.match(list, /uart 0x3f8-0x3ff, exit 0x501/);
  assert.equal([...list.matchAll(/0x[0-9a-f]{2}(?=,|\s|$)/g)].length, 161);
});
