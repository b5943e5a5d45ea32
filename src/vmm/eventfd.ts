// eventfds and poll(2) through koffi, for the virtio data path: KVM signals an eventfd when the
// guest notifies a queue (KVM_IOEVENTFD) and injects an interrupt when one is written
// (KVM_IRQFD), so neither passes through the vCPU's exit loop. Separate from sys.ts so the
// vCPU's Sys (and its test doubles) stay as they are.
import { createRequire } from "node:module";

export const EFD_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
const POLLIN = 1;

export interface EventSys {
  /** A new eventfd (non-blocking, close-on-exec), or -1. */
  eventfd(): number;
  /** Adds 1 to the counter: wakes a poller, or makes KVM inject the irqfd's interrupt. */
  signal(fd: number): void;
  /** Reads and clears the counter; 0 if it was 0. */
  drain(fd: number): number;
  /** poll(2) for input on fds, up to timeoutMs (-1: forever): the ready ones. */
  poll(fds: readonly number[], timeoutMs: number): number[];
  errno(): number;
}

type Fn = (...args: unknown[]) => unknown;
let cached: EventSys | undefined;

export function loadEventSys(): EventSys {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const koffi = require("koffi") as typeof import("koffi");
  const libc = koffi.load("libc.so.6");
  const eventfd = libc.func("int eventfd(unsigned int initval, int flags)") as Fn;
  const read = libc.func("long read(int fd, void *buf, size_t n)") as Fn;
  const write = libc.func("long write(int fd, const void *buf, size_t n)") as Fn;
  const poll = libc.func("int poll(void *fds, unsigned long nfds, int timeout)") as Fn;
  const one = new Uint8Array(8);
  one[0] = 1;
  const buf = new Uint8Array(8);
  const view = new DataView(buf.buffer);
  let pollBuf = new Uint8Array(8 * 8);
  cached = {
    eventfd: () => eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) as number,
    signal: (fd) => void write(fd, one, 8),
    drain: (fd) => ((read(fd, buf, 8) as number) === 8 ? Number(view.getBigUint64(0, true)) : 0),
    poll: (fds, timeoutMs) => {
      if (pollBuf.length < fds.length * 8) pollBuf = new Uint8Array(fds.length * 8);
      const pv = new DataView(pollBuf.buffer);
      fds.forEach((fd, i) => {
        pv.setInt32(i * 8, fd, true); // struct pollfd { int fd; short events; short revents; }
        pv.setInt16(i * 8 + 4, POLLIN, true);
        pv.setInt16(i * 8 + 6, 0, true);
      });
      const n = poll(pollBuf, fds.length, timeoutMs) as number;
      if (n <= 0) return [];
      return fds.filter((_fd, i) => pv.getInt16(i * 8 + 6, true) !== 0);
    },
    errno: () => koffi.errno(),
  };
  return cached;
}
