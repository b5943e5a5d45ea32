// For the tests of TAP networking (src/vmm/net, test/net-*): whether a TAP can be made here,
// and the traces a run's network would leave (TAP interfaces, /dev/net/tun fds).
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { Tap } from "../net/tap.ts";

/** Why a TAP cannot be made here (the skip reason), or undefined. */
export const tapWhy = ((): string | undefined => {
  try {
    Tap.open().close();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
})();

/** Kiln's TAPs as name@ifindex (ifindex only grows: a later TAP of the same name differs). */
export const kilnTaps = (): string[] =>
  readdirSync("/sys/class/net").filter((n) => n.startsWith("kiln")).flatMap((n) => {
    try {
      return [`${n}@${readFileSync(`/sys/class/net/${n}/ifindex`, "utf8").trim()}`];
    } catch {
      return []; // went away meanwhile
    }
  });

const tunFdList = (): string[] =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === "/dev/net/tun";
    } catch {
      return false;
    }
  });

/** fds of this process open on /dev/net/tun. */
export const tunFds = (): number => tunFdList().length;

/**
 * The TAPs this process holds, as name@ifindex (a tun fd's fdinfo names its interface), so a
 * test can tell its run's TAP from those of tests running beside it in other processes.
 */
export const ownTaps = (): string[] =>
  tunFdList().flatMap((fd) => {
    const name = /^iff:\s*(\S+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1];
    return kilnTaps().filter((t) => t.startsWith(`${name}@`));
  });
