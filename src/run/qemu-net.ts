// The QEMU runner's network: a virtio-net device (virtio-mmio) on the run's TAP, handed to QEMU
// as fd 3 of its stdio (`-netdev tap,fd=3`: QEMU needs no right to make one), or on QEMU's
// user-mode network with published ports as hostfwd rules. The guest's net.* words come with
// the GuestNetwork (guest-network.ts).
import { macText } from "../vmm/net/tap.ts";
import type { GuestNetwork } from "./guest-network.ts";
import type { PublishedPort } from "./net-options.ts";

/** QEMU user mode's fixed plan (slirp): the guest is 10.0.2.15/24, the host side 10.0.2.2. */
export const USER_GUEST_IP = "10.0.2.15";
export const USER_PREFIX = 24;
export const USER_GATEWAY = "10.0.2.2";

/** The fd number the TAP has in QEMU (stdio 0-2, then this). */
export const QEMU_TAP_FD = 3;

const hostfwd = (p: PublishedPort): string => `hostfwd=${p.proto}:${p.hostAddress}:${p.hostPort}-${USER_GUEST_IP}:${p.guestPort}`;

/** QEMU arguments: the backend and the device. */
export function qemuNetArgs(nw: GuestNetwork): string[] {
  if (nw.tap) return ["-netdev", `tap,id=net0,fd=${QEMU_TAP_FD}`, "-device", `virtio-net-device,netdev=net0,mac=${macText(nw.tap.plan.mac)}`];
  return ["-netdev", ["user", "id=net0", ...nw.publish.map(hostfwd)].join(","), "-device", "virtio-net-device,netdev=net0"];
}

/** The stdio of the QEMU process: the TAP fd goes in position QEMU_TAP_FD. */
export function qemuStdio(nw: GuestNetwork | undefined, stdin: "inherit" | "ignore"): Array<"inherit" | "ignore" | "pipe" | number> {
  return nw?.tap ? [stdin, "pipe", "pipe", nw.tap.fd] : [stdin, "pipe", "pipe"];
}
