// A 16550A UART model, enough for Linux's 8250 driver probe and Kiln's polled driver:
// transmission is instant (THR empty is always true), received bytes queue in a host-side FIFO
// (DR in LSR), interrupts follow IER/IIR priorities, loopback and the modem lines behave as the
// probe expects, the divisor latch and scratch register read back what was written.
import type { PortDevice } from "./io-bus.ts";

export const COM1 = 0x3f8;
export const COM1_IRQ = 4;

// Register offsets and bits.
const RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
export const LCR_DLAB = 0x80;
export const IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08;
export const IIR_NO_INT = 0x01, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_FIFO_ON = 0xc0;
export const FCR_ENABLE = 0x01, FCR_CLEAR_RX = 0x02;
export const LSR_DR = 0x01, LSR_THRE = 0x20, LSR_TEMT = 0x40;
export const MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
export const MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;

export interface UartOptions {
  base?: number;
  /** Receives each transmitted byte (not called in loopback mode). */
  output: (byte: number) => void;
  /** Called when the interrupt line changes level. */
  irq?: (level: boolean) => void;
  /** Received bytes buffered on the host side before feed() pushes back. */
  rxCapacity?: number;
}

export class Uart16550 implements PortDevice {
  readonly name = "uart16550";
  readonly base: number;
  readonly length = 8;
  private readonly output: (byte: number) => void;
  private readonly irq: ((level: boolean) => void) | undefined;
  private readonly rxCapacity: number;
  private rx: number[] = [];
  private ier = 0;
  private lcr = 0x03; // 8N1
  private mcr = 0;
  private fcr = 0;
  private scr = 0;
  private dll = 0x0c; // 9600 baud, as after a PC BIOS
  private dlm = 0;
  private thrPending = false; // THR-empty interrupt waiting to be seen in IIR
  private irqLevel = false;

  constructor(opts: UartOptions) {
    this.base = opts.base ?? COM1;
    this.output = opts.output;
    this.irq = opts.irq;
    this.rxCapacity = opts.rxCapacity ?? 4096;
  }

  /** Queues host input; returns how many bytes were taken (the rest must be offered again). */
  feed(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.rxCapacity - this.rx.length);
    for (let i = 0; i < n; i++) this.rx.push(bytes[i]!);
    if (n > 0) this.update();
    return n;
  }

  /** Bytes received but not yet read by the guest. */
  get pendingInput(): number {
    return this.rx.length;
  }

  get interruptLine(): boolean {
    return this.irqLevel;
  }

  private interruptId(): number {
    if (this.ier & IER_RDI && this.rx.length > 0) return IIR_RDI;
    if (this.ier & IER_THRI && this.thrPending) return IIR_THRI;
    return IIR_NO_INT;
  }

  private update(): void {
    const level = this.interruptId() !== IIR_NO_INT;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq?.(level);
    }
  }

  read(offset: number): number {
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR: {
        if (dlab) return this.dll;
        const b = this.rx.shift() ?? 0;
        this.update();
        return b;
      }
      case IER:
        return dlab ? this.dlm : this.ier;
      case IIR_FCR: {
        const id = this.interruptId();
        if (id === IIR_THRI) {
          // Reading IIR while it reports THR empty acknowledges that interrupt.
          this.thrPending = false;
          this.update();
        }
        return id | (this.fcr & FCR_ENABLE ? IIR_FIFO_ON : 0);
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR:
        return LSR_THRE | LSR_TEMT | (this.rx.length > 0 ? LSR_DR : 0);
      case MSR:
        if (this.mcr & MCR_LOOP)
          return (
            (this.mcr & MCR_RTS ? MSR_CTS : 0) |
            (this.mcr & MCR_DTR ? MSR_DSR : 0) |
            (this.mcr & MCR_OUT1 ? MSR_RI : 0) |
            (this.mcr & MCR_OUT2 ? MSR_DCD : 0)
          );
        return MSR_DCD | MSR_DSR | MSR_CTS; // a terminal is always there
      case SCR:
        return this.scr;
      default:
        return 0xff;
    }
  }

  write(offset: number, _size: number, value: number): void {
    const v = value & 0xff;
    const dlab = (this.lcr & LCR_DLAB) !== 0;
    switch (offset) {
      case RBR_THR:
        if (dlab) {
          this.dll = v;
          return;
        }
        if (this.mcr & MCR_LOOP) {
          if (this.rx.length < this.rxCapacity) this.rx.push(v);
        } else {
          this.output(v);
        }
        this.thrPending = true; // sent at once, so THR is empty again
        this.update();
        return;
      case IER: {
        if (dlab) {
          this.dlm = v;
          return;
        }
        const was = this.ier;
        this.ier = v & (IER_RDI | IER_THRI | IER_RLSI | IER_MSI);
        // Enabling THRI while THR is empty raises it at once (the 8250 driver relies on this).
        if (this.ier & IER_THRI && !(was & IER_THRI)) this.thrPending = true;
        this.update();
        return;
      }
      case IIR_FCR:
        this.fcr = v & 0xc9;
        if (v & FCR_CLEAR_RX) this.rx = [];
        this.update();
        return;
      case LCR:
        this.lcr = v;
        return;
      case MCR:
        this.mcr = v & 0x1f;
        return;
      case SCR:
        this.scr = v;
        return;
      default:
        return; // LSR and MSR are read-only
    }
  }
}
