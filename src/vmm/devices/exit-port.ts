// The exit port (0x501, as QEMU's isa-debug-exit): the guest writes its exit status, the VM ends.
import type { PortDevice } from "./io-bus.ts";

export const EXIT_PORT = 0x501;

export class ExitPort implements PortDevice {
  readonly name = "exit-port";
  readonly base: number;
  readonly length = 1;
  /** The status written, once the guest has written one. */
  status: number | undefined;
  private readonly onExit: (status: number) => void;

  constructor(onExit: (status: number) => void, base = EXIT_PORT) {
    this.onExit = onExit;
    this.base = base;
  }
  read(): number {
    return 0;
  }
  /** Kiln writes one byte; a wider write still ends the VM, with its low byte as the status. */
  write(_offset: number, _size: number, value: number): void {
    if (this.status !== undefined) return;
    this.status = value & 0xff;
    this.onExit(this.status);
  }
}
