// QEMU's side of a run's network: a virtio-net-device (virtio-mmio, modern) on the TAP the run
// made, handed to QEMU as fd 3 of its stdio (`-netdev tap,fd=3`: QEMU needs no right to make
// one), or on QEMU's user-mode network with published ports as hostfwd rules.
import { macText } from "../vmm/net/tap.ts";
import type { GuestNetwork } from "./guest-network.ts";

/** The fd number the TAP has in QEMU (stdio 0-2, then this). */
export const QEMU_TAP_FD = 3;

export function qemuNetArgs(nw: GuestNetwork): string[] {
  const device = ["-device", `virtio-net-device,netdev=n0${nw.tap ? `,mac=${macText(nw.tap.plan.mac)}` : ""}`];
  if (nw.tap) return ["-netdev", `tap,id=n0,fd=${QEMU_TAP_FD}`, ...device];
  const fwd = nw.publish.map((p) => `,hostfwd=${p.proto}:${p.hostAddress}:${p.hostPort}-${nw.guestIp}:${p.guestPort}`).join("");
  return ["-netdev", `user,id=n0${fwd}`, ...device];
}

/** The stdio of the QEMU process: the TAP fd goes in position QEMU_TAP_FD. */
export function qemuStdio(nw: GuestNetwork | undefined, stdin: "inherit" | "ignore"): Array<"inherit" | "ignore" | "pipe" | number> {
  return nw?.tap ? [stdin, "pipe", "pipe", nw.tap.fd] : [stdin, "pipe", "pipe"];
}
