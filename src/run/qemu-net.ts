// The QEMU runner's network: a virtio-net device (virtio-mmio) on QEMU's user-mode network, with
// published ports as hostfwd rules, and the net.* words that give the guest its address.
import { KilnError } from "../errors.ts";
import type { NetOptions, PublishedPort } from "./net-options.ts";

/** QEMU user mode's fixed plan (slirp): the guest is 10.0.2.15/24, the host side 10.0.2.2. */
export const USER_GUEST_IP = "10.0.2.15";
export const USER_PREFIX = 24;
export const USER_GATEWAY = "10.0.2.2";

export interface QemuNet {
  /** QEMU arguments: the backend and the device. */
  args: string[];
  /** Kernel command-line parameters for the guest's stack. */
  params: string[];
}

const hostfwd = (p: PublishedPort): string => `hostfwd=${p.proto}:${p.hostAddress}:${p.hostPort}-${USER_GUEST_IP}:${p.guestPort}`;

/**
 * The network of an image that asks for virtio-net. No mode given: user mode (a TAP on QEMU is not
 * written yet, so there is nothing to prefer it to).
 */
export function qemuNet(net: NetOptions | undefined): QemuNet {
  const mode = net?.mode ?? "user";
  if (mode === "tap") {
    throw new KilnError("--net tap: not yet supported on the QEMU runner. Use --net user (QEMU's user-mode network; -p publishes ports through it).");
  }
  const netdev = ["user", "id=net0", ...(net?.publish ?? []).map(hostfwd)].join(",");
  return {
    args: ["-netdev", netdev, "-device", "virtio-net-device,netdev=net0"],
    params: [`net.ip=${USER_GUEST_IP}/${USER_PREFIX}`, `net.gw=${USER_GATEWAY}`],
  };
}
