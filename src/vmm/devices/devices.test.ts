import { test } from "node:test";
import { strict as assert } from "node:assert";
import { IoBus } from "./io-bus.ts";
import { EXIT_PORT, ExitPort } from "./exit-port.ts";
import { COM1, Uart16550 } from "./uart16550.ts";

function setup() {
  const out: number[] = [];
  const irqs: boolean[] = [];
  const exits: number[] = [];
  const bus = new IoBus();
  const uart = new Uart16550({ output: (b) => out.push(b), irq: (l) => irqs.push(l), rxCapacity: 8 });
  bus.register(uart);
  bus.register(new ExitPort((s) => exits.push(s)));
  return { out, irqs, exits, bus, uart };
}

test("Kiln's polled driver: wait for THRE, write THR, bytes reach the sink", () => {
  const { out, bus } = setup();
  for (const ch of new TextEncoder().encode("hi\n")) {
    assert.ok(bus.in(COM1 + 5, 1) & 0x20, "THRE");
    bus.out(COM1, 1, ch);
  }
  assert.equal(new TextDecoder().decode(new Uint8Array(out)), "hi\n");
});

test("Linux 8250 probe sequence sees a 16550A", () => {
  const { bus, out } = setup();
  // scratch register
  bus.out(COM1 + 7, 1, 0xa5);
  assert.equal(bus.in(COM1 + 7, 1), 0xa5);
  // IER reads back its low nibble
  bus.out(COM1 + 1, 1, 0);
  assert.equal(bus.in(COM1 + 1, 1) & 0x0f, 0);
  bus.out(COM1 + 1, 1, 0x0f);
  assert.equal(bus.in(COM1 + 1, 1) & 0x0f, 0x0f);
  bus.out(COM1 + 1, 1, 0);
  // loopback: RTS|OUT2 show as CTS|DCD
  bus.out(COM1 + 4, 1, 0x10 | 0x0a);
  assert.equal(bus.in(COM1 + 6, 1) & 0xf0, 0x90);
  bus.out(COM1 + 4, 1, 0x1f);
  assert.equal(bus.in(COM1 + 6, 1) & 0xf0, 0xf0);
  // loopback echo stays inside the UART
  bus.out(COM1, 1, 0x78);
  assert.equal(bus.in(COM1 + 5, 1) & 1, 1);
  assert.equal(bus.in(COM1, 1), 0x78);
  assert.equal(bus.in(COM1 + 5, 1) & 1, 0);
  assert.deepEqual(out, []);
  bus.out(COM1 + 4, 1, 0x0b);
  assert.equal(bus.in(COM1 + 6, 1), 0xb0, "a terminal: DCD DSR CTS");
  // FIFO enable shows in IIR bits 7:6
  bus.out(COM1 + 2, 1, 0x07);
  assert.equal(bus.in(COM1 + 2, 1) >> 6, 3);
  // divisor latch
  bus.out(COM1 + 3, 1, 0x80);
  bus.out(COM1, 1, 0x01);
  bus.out(COM1 + 1, 1, 0x00);
  assert.equal(bus.in(COM1, 1), 1);
  bus.out(COM1 + 3, 1, 0x03);
  assert.equal(bus.in(COM1 + 3, 1), 3);
  assert.equal(bus.in(COM1 + 1, 1), 0, "IER unaffected by DLM write");
  assert.deepEqual(out, [], "divisor writes are not output");
});

test("interrupts: THRI raised on enable, acknowledged by IIR read, raised again by THR write", () => {
  const { bus, irqs } = setup();
  assert.equal(bus.in(COM1 + 2, 1) & 0x0f, 0x01);
  bus.out(COM1 + 1, 1, 0x02);
  assert.deepEqual(irqs, [true]);
  assert.equal(bus.in(COM1 + 2, 1) & 0x0f, 0x02);
  assert.deepEqual(irqs, [true, false]);
  assert.equal(bus.in(COM1 + 2, 1) & 0x0f, 0x01);
  bus.out(COM1, 1, 0x41);
  assert.deepEqual(irqs, [true, false, true]);
});

test("input: LSR data-ready, RDI interrupt before THRI, capacity pushes back", () => {
  const { bus, uart, irqs } = setup();
  assert.equal(bus.in(COM1 + 5, 1) & 1, 0);
  assert.equal(uart.feed(new TextEncoder().encode("0123456789")), 8);
  assert.equal(uart.pendingInput, 8);
  assert.equal(bus.in(COM1 + 5, 1) & 1, 1);
  bus.out(COM1 + 1, 1, 0x03);
  assert.equal(uart.interruptLine, true);
  assert.equal(bus.in(COM1 + 2, 1) & 0x0f, 0x04, "received data outranks THR empty");
  const got: number[] = [];
  while (bus.in(COM1 + 5, 1) & 1) got.push(bus.in(COM1, 1));
  assert.equal(new TextDecoder().decode(new Uint8Array(got)), "01234567");
  assert.equal(bus.in(COM1 + 2, 1) & 0x0f, 0x02, "then THR empty");
  assert.equal(bus.in(COM1 + 2, 1) & 0x0f, 0x01);
  assert.equal(uart.interruptLine, false);
  assert.deepEqual(irqs, [true, false]);
  assert.equal(bus.in(COM1, 1), 0, "empty RBR reads 0");
  uart.feed(new Uint8Array([1, 2]));
  bus.out(COM1 + 2, 1, 0x03); // FIFO clear RX
  assert.equal(uart.pendingInput, 0);
});

test("exit port: first write is the status; other ports ignored but counted", () => {
  const { bus, exits } = setup();
  bus.out(0x80, 1, 0);
  bus.out(0x80, 1, 0);
  assert.equal(bus.in(0x61, 1), 0xff);
  assert.equal(bus.in(0x61, 2), 0xffff);
  assert.equal(bus.in(0xcfc, 4), 0xffffffff);
  bus.out(EXIT_PORT, 1, 3);
  bus.out(EXIT_PORT, 1, 7);
  assert.deepEqual(exits, [3]);
  assert.deepEqual(bus.unknown.get(0x80), { reads: 0, writes: 2 });
  assert.deepEqual(bus.unknown.get(0x61), { reads: 2, writes: 0 });
  assert.equal(bus.unknownTotal(), 5);
});

test("KVM I/O exits: rep outs/ins through the data area, bad sizes refused", () => {
  const { bus, out, uart } = setup();
  bus.serveExit(true, COM1, 1, 3, new Uint8Array([0x61, 0x62, 0x63, 0xff]));
  assert.deepEqual(out, [0x61, 0x62, 0x63]);
  uart.feed(new Uint8Array([9, 8]));
  const data = new Uint8Array(8);
  bus.serveExit(false, COM1, 1, 2, data);
  assert.deepEqual([...data.subarray(0, 3)], [9, 8, 0]);
  const wide = new Uint8Array(4);
  bus.serveExit(false, 0x70, 4, 1, wide);
  assert.deepEqual([...wide], [0xff, 0xff, 0xff, 0xff]);
  assert.throws(() => bus.serveExit(true, COM1, 3, 1, new Uint8Array(8)), /size 3/);
  assert.throws(() => bus.serveExit(true, COM1, 4, 3, new Uint8Array(8)), /exceeds/);
  assert.throws(() => bus.register(new ExitPort(() => {}, COM1 + 7)), /overlap/);
});
