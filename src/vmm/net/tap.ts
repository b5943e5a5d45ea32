// A TAP device per VM, made with ioctls rather than by spawning `ip`: /dev/net/tun, TUNSETIFF
// (IFF_TAP | IFF_NO_PI, name "kiln%d" so the kernel picks a free number), non-blocking; then the
// host address of the VM's /30 and IFF_UP on an AF_INET socket. Not persistent: the interface
// (and its address and route) goes away when the last fd on it closes, so a crash cannot leave
// one behind. The address plan: TAP kilnN gets 10.213.0.0/16's Nth /30, host .1, guest .2, so
// concurrent VMs never clash; its MAC derives from N too.
import { writeFileSync } from "node:fs";
import { KilnError } from "../../errors.ts";
import type { NetBackend } from "../devices/virtio/net.ts";
import { libcFunc, loadSys, type Sys } from "../sys.ts";

const O_RDWR = 2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const TUNSETIFF = 0x400454ca;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const SIOCSIFADDR = 0x8916;
const SIOCSIFNETMASK = 0x891c;
const IFF_UP = 0x1;
const IFREQ_BYTES = 40;
const EPERM = 1;
const EACCES = 13;
const ENOENT = 2;
/** 10.213.0.0/16 holds 16384 /30s. */
export const TAP_SUBNETS = 16384;
const PLAN_BASE = (10 << 24) | (213 << 16);

export interface NetPlan {
  /** The host's end of the /30 (the guest's gateway). */
  hostIp: string;
  guestIp: string;
  prefix: number;
  /** The guest's MAC (locally administered 02:6b:69:6c:NN:NN). */
  mac: Uint8Array;
}

const ip = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/** The addresses of the VM on TAP number n. */
export function tapPlan(n: number): NetPlan {
  if (!Number.isInteger(n) || n < 0 || n >= TAP_SUBNETS) throw new KilnError(`TAP kiln${n}: only kiln0..kiln${TAP_SUBNETS - 1} have an address in 10.213.0.0/16. Close some VMs' TAPs.`);
  const net = PLAN_BASE + 4 * n;
  return { hostIp: ip(net + 1), guestIp: ip(net + 2), prefix: 30, mac: macFor(n) };
}

/** A locally administered unicast MAC for VM number n ("kil" then n). */
export function macFor(n: number): Uint8Array {
  return new Uint8Array([0x02, 0x6b, 0x69, 0x6c, (n >>> 8) & 255, n & 255]);
}

export const macText = (mac: Uint8Array): string => [...mac].map((b) => b.toString(16).padStart(2, "0")).join(":");

/** The VMM's libc calls, and the three a TAP needs besides. */
interface TapSys extends Pick<Sys, "open" | "close" | "ioctlBuf" | "errno" | "strerror"> {
  socket(domain: number, type: number, proto: number): number;
  read(fd: number, buf: Uint8Array, n: number): number;
  write(fd: number, buf: Uint8Array, n: number): number;
}

let cached: TapSys | undefined;

export function loadTapSys(): TapSys {
  if (cached) return cached;
  const sys = loadSys();
  const socket = libcFunc("int socket(int domain, int type, int protocol)");
  const read = libcFunc("long read(int fd, void *buf, size_t n)");
  const write = libcFunc("long write(int fd, const void *buf, size_t n)");
  cached = {
    open: sys.open,
    close: sys.close,
    ioctlBuf: sys.ioctlBuf,
    errno: sys.errno,
    strerror: sys.strerror,
    socket: (d, t, p) => socket(d, t, p) as number,
    read: (fd, buf, n) => read(fd, buf, n) as number,
    write: (fd, buf, n) => write(fd, buf, n) as number,
  };
  return cached;
}

const NEEDS = "a TAP device needs root or CAP_NET_ADMIN (run as root, or `setcap cap_net_admin+ep $(which node)`), or use `--net user` on the QEMU runner";

export class Tap {
  /** Non-blocking, close-on-exec (a child that must have it gets it as one of its stdio fds). */
  readonly fd: number;
  readonly name: string;
  readonly index: number;
  readonly plan: NetPlan;
  private readonly sys: TapSys;
  private closed = false;

  /** Makes a new TAP (kiln%d), gives the host its address and brings it up. */
  static open(sys: TapSys = loadTapSys()): Tap {
    const fd = sys.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      const e = sys.errno();
      if (e === ENOENT) throw new KilnError(`cannot open /dev/net/tun: the kernel has no TUN/TAP driver (modprobe tun); ${NEEDS}.`);
      throw new KilnError(`cannot open /dev/net/tun (${sys.strerror(e)}): ${NEEDS}.`);
    }
    let name = "";
    try {
      const req = ifreq("kiln%d");
      new DataView(req.buffer).setUint16(16, IFF_TAP | IFF_NO_PI, true);
      if (sys.ioctlBuf(fd, TUNSETIFF, req) < 0) {
        const e = sys.errno();
        throw new KilnError(e === EPERM || e === EACCES ? `cannot create a TAP device (${sys.strerror(e)}): ${NEEDS}.` : `TUNSETIFF on /dev/net/tun failed: ${sys.strerror(e)} (errno ${e}).`);
      }
      name = new TextDecoder().decode(req.subarray(0, req.indexOf(0)));
      const index = Number(/^kiln(\d+)$/.exec(name)?.[1] ?? NaN);
      const plan = tapPlan(index);
      configure(sys, name, plan);
      return new Tap(sys, fd, name, index, plan);
    } catch (e) {
      sys.close(fd); // the interface goes with it
      throw e;
    }
  }

  private constructor(sys: TapSys, fd: number, name: string, index: number, plan: NetPlan) {
    this.sys = sys;
    this.fd = fd;
    this.name = name;
    this.index = index;
    this.plan = plan;
  }

  /** The guest's command-line words (the contract: net.ip=<guest>/<prefix> net.gw=<host>). */
  get cmdlineWords(): string {
    return `net.ip=${this.plan.guestIp}/${this.plan.prefix} net.gw=${this.plan.hostIp}`;
  }

  /** Closes the fd: the kernel removes the interface. Safe to call twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sys.close(this.fd);
  }
}

function ifreq(name: string): Uint8Array {
  const req = new Uint8Array(IFREQ_BYTES);
  req.set(new TextEncoder().encode(name).subarray(0, 15));
  return req;
}

function sockaddrIn(req: Uint8Array, addr: number): Uint8Array {
  const v = new DataView(req.buffer);
  v.setUint16(16, AF_INET, true);
  v.setUint32(20, addr >>> 0, false); // sin_addr, network order
  return req;
}

function configure(sys: TapSys, name: string, plan: NetPlan): void {
  const s = sys.socket(AF_INET, SOCK_DGRAM | O_CLOEXEC, 0);
  if (s < 0) throw new KilnError(`socket(AF_INET) for ${name} failed: ${sys.strerror(sys.errno())}.`);
  const toNum = (a: string): number => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
  const step = (what: string, req: number, buf: Uint8Array): void => {
    if (sys.ioctlBuf(s, req, buf) < 0) {
      const e = sys.errno();
      throw new KilnError(`${what} on ${name} failed (${sys.strerror(e)})${e === EPERM || e === EACCES ? `: ${NEEDS}` : ""}.`);
    }
  };
  try {
    step("SIOCSIFADDR", SIOCSIFADDR, sockaddrIn(ifreq(name), toNum(plan.hostIp)));
    step("SIOCSIFNETMASK", SIOCSIFNETMASK, sockaddrIn(ifreq(name), (0xffffffff << (32 - plan.prefix)) >>> 0));
    // No IPv6 on the link: router solicitations and MLD reports would be noise for the guest.
    try {
      writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, "1");
    } catch {
      // No IPv6 in this kernel, or a read-only /proc: the guest ignores what it does not speak.
    }
    const flags = ifreq(name);
    step("SIOCGIFFLAGS", SIOCGIFFLAGS, flags);
    const v = new DataView(flags.buffer);
    v.setUint16(16, v.getUint16(16, true) | IFF_UP, true);
    step("SIOCSIFFLAGS", SIOCSIFFLAGS, flags);
  } finally {
    sys.close(s);
  }
}

/** Frames in and out of a TAP fd (non-blocking): the virtio-net backend of a VM. */
export class TapBackend implements NetBackend {
  private readonly fd: number;
  private readonly sys: TapSys;
  private readonly buf = new Uint8Array(65536);
  /** Frames the TAP did not take (its queue full, or it went away): lost, as on a wire. */
  sendErrors = 0;

  constructor(fd: number, sys: TapSys = loadTapSys()) {
    this.fd = fd;
    this.sys = sys;
  }

  send(frame: Uint8Array): void {
    if (this.sys.write(this.fd, frame, frame.length) !== frame.length) this.sendErrors++;
  }

  receive(): Uint8Array | null {
    // -1 with EAGAIN: nothing waiting; any other error: the TAP is gone, nothing more comes.
    const n = this.sys.read(this.fd, this.buf, this.buf.length);
    return n > 0 ? this.buf.slice(0, n) : null;
  }
}
