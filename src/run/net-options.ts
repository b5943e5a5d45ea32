// What `kiln run -p` and `--net` ask of a runner: the guest's network and its published ports.
// The runners turn it into a backend (QEMU: user-mode networking or a TAP; the VMM: a TAP) and
// the guest's net.* command-line words.
import { KilnError } from "../errors.ts";
import { quote } from "../quote.ts";

export interface PublishedPort {
  /** The host address to listen on (default 127.0.0.1: nothing is exposed beyond the host). */
  hostAddress: string;
  hostPort: number;
  guestPort: number;
  proto: "tcp" | "udp";
}

/** `tap`: a TAP device per VM with its own /30 (needs CAP_NET_ADMIN); `user`: QEMU's user-mode network (QEMU only). */
export type NetMode = "tap" | "user";

export interface NetOptions {
  /** Default: tap where this process may make one, else user on QEMU. */
  mode?: NetMode;
  publish: PublishedPort[];
}

const port = (text: string, what: string, spec: string): number => {
  const n = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) throw new KilnError(`-p ${quote(spec)}: ${what} ${quote(text)} is not a port (1-65535). Use -p HOST:GUEST, e.g. -p 8080:80.`);
  return n;
};

/** Parses one -p value: `[ADDRESS:]HOST:GUEST[/tcp|/udp]`. */
export function parsePublish(spec: string): PublishedPort {
  let body = spec;
  let proto: "tcp" | "udp" = "tcp";
  const slash = body.lastIndexOf("/");
  if (slash >= 0) {
    const p = body.slice(slash + 1);
    if (p !== "tcp" && p !== "udp") throw new KilnError(`-p ${quote(spec)}: unknown protocol ${quote(p)}. Use /tcp or /udp.`);
    proto = p;
    body = body.slice(0, slash);
  }
  const parts = body.split(":");
  if (parts.length < 2 || parts.length > 3) throw new KilnError(`-p ${quote(spec)}: expected HOST:GUEST or ADDRESS:HOST:GUEST, e.g. -p 8080:80.`);
  const hostAddress = parts.length === 3 ? parts[0]! : "127.0.0.1";
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(hostAddress) || hostAddress.split(".").some((o) => Number(o) > 255)) {
    throw new KilnError(`-p ${quote(spec)}: ${quote(hostAddress)} is not an IPv4 address.`);
  }
  return { hostAddress, hostPort: port(parts.at(-2)!, "host port", spec), guestPort: port(parts.at(-1)!, "guest port", spec), proto };
}

/** Parses every -p value and refuses two that take the same host port. */
export function parsePublishList(specs: readonly string[]): PublishedPort[] {
  const ports = specs.map(parsePublish);
  const seen = new Set<string>();
  for (const p of ports) {
    const key = `${p.proto}:${p.hostAddress}:${p.hostPort}`;
    if (seen.has(key)) throw new KilnError(`-p: host port ${p.hostPort}/${p.proto} on ${p.hostAddress} is published twice.`);
    seen.add(key);
  }
  return ports;
}

export function parseNetMode(value: string): NetMode {
  if (value === "tap" || value === "user") return value;
  throw new KilnError(`--net: unknown network ${quote(value)}. Use tap or user.`);
}
