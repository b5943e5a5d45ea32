// What a VM's network is to its device threads: the TAP fd (opened and owned by the runner,
// which closes it after the VM), the guest's MAC, and the faults to inject. Both the vCPU
// thread (serving devices until the device thread is up) and the device thread make their
// backend from it; fault state moves between them with the device's state.
import type { NetBackend } from "../devices/virtio/net.ts";
import { FaultyBackend, type NetFaults } from "./faults.ts";
import { TapBackend } from "./tap.ts";

export interface NetAttach {
  /** A non-blocking TAP fd (IFF_TAP | IFF_NO_PI); the VM never closes it. */
  fd: number;
  mac: Uint8Array;
  faults?: NetFaults;
}

export function attachBackend(a: NetAttach): NetBackend {
  const tap = new TapBackend(a.fd);
  return a.faults ? new FaultyBackend(tap, a.faults) : tap;
}
