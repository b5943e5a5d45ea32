import { test } from "node:test";
import { strict as assert } from "node:assert";
import { GuestMemory } from "../guest-memory.ts";
import { IoBus } from "./io-bus.ts";
import { HOSTCON_MAGIC, HOSTCON_MAX_LEN, HOSTCON_PORT, HostConsole } from "./host-console.ts";

function setup(size = 64 * 1024) {
  const mem = new GuestMemory(new Uint8Array(size));
  const out: string[] = [];
  const con = new HostConsole(mem, (b) => out.push(new TextDecoder().decode(b)));
  const bus = new IoBus();
  bus.register(con);
  const request = (at: number, addr: number, len: number): void => {
    const v = mem.view("test request", at, 8);
    v.setUint32(0, addr, true);
    v.setUint32(4, len, true);
  };
  return { mem, out, con, bus, request };
}

test("probe: a 32-bit read gives the magic; other widths and offsets do not", () => {
  const { bus } = setup();
  assert.equal(bus.in(HOSTCON_PORT, 4), HOSTCON_MAGIC);
  assert.notEqual(bus.in(HOSTCON_PORT, 1), HOSTCON_MAGIC & 0xff);
  assert.equal(bus.in(HOSTCON_PORT + 1, 1), 0);
});

test("one write prints the whole buffer the request names", () => {
  const { mem, out, bus, request } = setup();
  mem.write("text", 0x2000, new TextEncoder().encode("Hello, world!\n"));
  request(0x100, 0x2000, 14);
  bus.out(HOSTCON_PORT, 4, 0x100);
  assert.deepEqual(out, ["Hello, world!\n"]);
  request(0x100, 0x2000, 0);
  bus.out(HOSTCON_PORT, 4, 0x100);
  assert.deepEqual(out, ["Hello, world!\n"], "an empty write prints nothing");
});

test("requests from guest memory are bounds-checked: bad ones print nothing and are counted", () => {
  const size = 64 * 1024;
  const { out, con, bus, request } = setup(size);
  const bad: Array<[string, () => void]> = [
    ["request past RAM", () => bus.out(HOSTCON_PORT, 4, size - 4)],
    ["request at 2^32-4", () => bus.out(HOSTCON_PORT, 4, 0xfffffffc)],
    ["misaligned request", () => bus.out(HOSTCON_PORT, 4, 0x101)],
    ["byte write", () => bus.out(HOSTCON_PORT, 1, 0x10)],
    ["write at offset 1", () => bus.out(HOSTCON_PORT + 1, 1, 0x10)],
    ["buffer past RAM", () => (request(0x100, size - 4, 8), bus.out(HOSTCON_PORT, 4, 0x100))],
    ["buffer address wrapping", () => (request(0x100, 0xffffffff, 2), bus.out(HOSTCON_PORT, 4, 0x100))],
    ["overlong length", () => (request(0x100, 0, HOSTCON_MAX_LEN + 1), bus.out(HOSTCON_PORT, 4, 0x100))],
  ];
  for (const [what, f] of bad) assert.doesNotThrow(f, what);
  assert.deepEqual(out, []);
  assert.equal(con.refused, bad.length);
});
