// The few libc calls the VMM needs, through koffi, with typed signatures (koffi itself is
// untyped). Pointers are BigInt addresses. Loaded lazily so that importing the VMM on a machine
// without koffi's native binary still lets `kvmAvailable()` explain the problem.
import { createRequire } from "node:module";
import { KvmError } from "./errors.ts";

export const O_RDWR = 2;
export const O_CLOEXEC = 0o2000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MADV_DONTNEED = 4;
export const SIG_BLOCK = 0;
export const SIG_SETMASK = 2;
export const EINTR = 4;
export const EAGAIN = 11;
export const E2BIG = 7;
export const ENOENT = 2;
export const EACCES = 13;
export const EPERM = 1;
/** glibc's sigset_t is 128 bytes; the kernel's (and KVM_SET_SIGNAL_MASK's) is 8. */
export const SIGSET_BYTES = 128;
export const KERNEL_SIGSET_BYTES = 8;

export interface Sys {
  open(path: string, flags: number): number;
  close(fd: number): number;
  /** ioctl with an integer argument. */
  ioctl(fd: number, req: number, arg: number): number;
  /** ioctl with a pointer to a buffer (passed without a copy). */
  ioctlBuf(fd: number, req: number, buf: Uint8Array): number;
  mmap(len: number, prot: number, flags: number, fd: number, offset: number): bigint;
  munmap(addr: bigint, len: number): number;
  madvise(addr: bigint, len: number, advice: number): number;
  /** Which pages of [addr, addr+len) are resident: one byte a page, bit 0 set if so. */
  mincore(addr: bigint, len: number, vec: Uint8Array): number;
  /** A zero-copy view of mapped memory. */
  view(addr: bigint, len: number): ArrayBuffer;
  errno(): number;
  strerror(errno: number): string;
  pthreadSelf(): bigint;
  pthreadKill(thread: bigint, sig: number): number;
  pthreadSigmask(how: number, set: Uint8Array | null, old: Uint8Array | null): number;
  /** sigtimedwait with a zero timeout: consumes one pending signal of `set`, or returns -1. */
  sigtimedwaitNow(set: Uint8Array): number;
  /** sigtimedwait up to `ms` milliseconds: the signal number, or -1 (EAGAIN on timeout). */
  sigtimedwait(set: Uint8Array, ms: number): number;
}

export type Fn = (...args: unknown[]) => unknown;

let cached: Sys | undefined;

/** A libc call returned a failure: the error names the call and errno's text. */
export function sysError(sys: Sys, call: string): KvmError {
  const e = sys.errno();
  return new KvmError(call, e, `${sys.strerror(e)} (errno ${e})`);
}

export const MAP_FAILED = 0xffffffffffffffffn;

let loaded: { koffi: typeof import("koffi"); libc: ReturnType<typeof import("koffi").load> } | undefined;

/** koffi and libc, loaded once (other modules declare their own few calls with libcFunc). */
function libcLoaded(): NonNullable<typeof loaded> {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  // koffi is CommonJS with native code; require keeps it out of the ESM graph until needed.
  const koffi = require("koffi") as typeof import("koffi");
  loaded = { koffi, libc: koffi.load("libc.so.6") };
  return loaded;
}

/** One libc function from its C declaration. */
export function libcFunc(decl: string): Fn {
  return libcLoaded().libc.func(decl) as Fn;
}

export function loadSys(): Sys {
  if (cached) return cached;
  const { koffi, libc } = libcLoaded();
  const f = libcFunc;
  const open = f("int open(const char *path, int flags)");
  const close = f("int close(int fd)");
  // Declared twice: an integer and a pointer third argument, both non-variadic (faster, and the
  // kernel only ever sees the register value).
  const ioctlInt = libc.func("ioctl", "int", ["int", "unsigned long", "unsigned long"]) as Fn;
  const ioctlPtr = libc.func("ioctl", "int", ["int", "unsigned long", "void *"]) as Fn;
  const mmap = f("void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)");
  const munmap = f("int munmap(void *addr, size_t len)");
  const madvise = f("int madvise(void *addr, size_t len, int advice)");
  const mincore = f("int mincore(void *addr, size_t len, void *vec)");
  const strerror = f("const char *strerror(int errnum)");
  const pthreadSelf = f("unsigned long pthread_self()");
  const pthreadKill = f("int pthread_kill(unsigned long thread, int sig)");
  const pthreadSigmask = f("int pthread_sigmask(int how, const void *set, void *oldset)");
  const sigtimedwait = f("int sigtimedwait(const void *set, void *info, const void *timeout)");
  const zeroTimeout = new Uint8Array(16); // struct timespec {0, 0}
  const toBig = (v: unknown): bigint => (typeof v === "bigint" ? BigInt.asUintN(64, v) : BigInt.asUintN(64, BigInt(v as number)));
  cached = {
    open: (p, flags) => open(p, flags) as number,
    close: (fd) => close(fd) as number,
    ioctl: (fd, req, arg) => ioctlInt(fd, req, arg) as number,
    ioctlBuf: (fd, req, buf) => ioctlPtr(fd, req, buf) as number,
    mmap: (len, prot, flags, fd, off) => {
      const p = mmap(null, len, prot, flags, fd, off);
      return p === null ? 0n : toBig(koffi.address(p));
    },
    munmap: (addr, len) => munmap(addr, len) as number,
    madvise: (addr, len, advice) => madvise(addr, len, advice) as number,
    mincore: (addr, len, vec) => mincore(addr, len, vec) as number,
    view: (addr, len) => koffi.view(addr, len),
    errno: () => koffi.errno(),
    strerror: (e) => String(strerror(e)),
    pthreadSelf: () => toBig(pthreadSelf()),
    pthreadKill: (t, sig) => pthreadKill(t, sig) as number,
    pthreadSigmask: (how, set, old) => pthreadSigmask(how, set, old) as number,
    sigtimedwaitNow: (set) => sigtimedwait(set, null, zeroTimeout) as number,
    sigtimedwait: (set, ms) => {
      const ts = new DataView(new ArrayBuffer(16));
      ts.setBigInt64(0, BigInt(Math.floor(ms / 1000)), true);
      ts.setBigInt64(8, BigInt((ms % 1000) * 1_000_000), true);
      return sigtimedwait(set, null, new Uint8Array(ts.buffer)) as number;
    },
  };
  return cached;
}

/** A sigset_t (glibc layout: bit sig-1 of a little-endian bitmap) holding `signals`. */
export function sigset(...signals: number[]): Uint8Array {
  const set = new Uint8Array(SIGSET_BYTES);
  for (const s of signals) set[(s - 1) >> 3]! |= 1 << ((s - 1) & 7);
  return set;
}
