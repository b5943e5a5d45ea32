// A run's network, as both runners set it up for an image with a virtio-net driver: the mode
// (the contract's default: a TAP where this process may make one, else QEMU's user mode, else
// a clear error), the TAP and its /30, the guest's net.* words, faults for the VMM's backend,
// and the published-port proxy (TAP mode; user mode publishes through QEMU's hostfwd). Opened
// before the guest boots, closed after it, on every path.
import { KilnError } from "../errors.ts";
import { envNetFaults, type NetFaults } from "../vmm/net/faults.ts";
import { Tap } from "../vmm/net/tap.ts";
import type { NetMode, NetOptions, PublishedPort } from "./net-options.ts";
import { startPortProxy, type PortProxy } from "./port-proxy.ts";
import { USER_GATEWAY, USER_GUEST_IP, USER_PREFIX } from "./qemu-net.ts";
import type { RunnerName } from "./types.ts";

export const USER_WORDS = `net.ip=${USER_GUEST_IP}/${USER_PREFIX} net.gw=${USER_GATEWAY}`;

export interface GuestNetwork {
  mode: NetMode;
  /** The guest's command-line words, for the library parameters. */
  words: string;
  guestIp: string;
  /** TAP mode: the device (the runner hands its fd to the VMM or to QEMU). */
  tap?: Tap;
  /** VMM only: faults for the backend ($KILN_NET_FAULTS). */
  faults?: NetFaults;
  publish: PublishedPort[];
  proxy?: PortProxy;
  /** Closes the proxy, then the TAP (the kernel removes the interface). Safe to call twice. */
  close(): Promise<void>;
}

export interface OpenNetworkOptions {
  /** Test seam: how to make a TAP (default Tap.open). */
  openTap?: () => Tap;
  faultsEnv?: string | undefined;
}

/**
 * The network of a run on `runner`, or undefined when the image has no network driver (then
 * asking to publish a port or for a mode is an error). Throws a one-line KilnError saying what is needed.
 */
export async function openGuestNetwork(hasDriver: boolean, net: NetOptions | undefined, runner: RunnerName, o: OpenNetworkOptions = {}): Promise<GuestNetwork | undefined> {
  const publish = net?.publish ?? [];
  if (!hasDriver) {
    if (publish.length > 0 || net?.mode) throw new KilnError("-p/--net: this image has no network device. Select virtio-net (and net) in the app's kiln.yaml, as apps/echo does.");
    return undefined;
  }
  const faults = envNetFaults(o.faultsEnv ?? process.env.KILN_NET_FAULTS);
  if (net?.mode === "user") {
    if (runner === "vmm") throw new KilnError(`--net user is QEMU's user-mode network; Kiln's VMM networks over a TAP only. Use --net tap (root or CAP_NET_ADMIN) or --runner qemu.`);
    return userNetwork(publish, faults);
  }
  let tap: Tap;
  try {
    tap = (o.openTap ?? (() => Tap.open()))();
  } catch (e) {
    // Default mode: no TAP allowed here, so user mode where the runner has one.
    if (net?.mode === undefined && runner === "qemu") return userNetwork(publish, faults);
    throw e;
  }
  let done = false;
  const nw: GuestNetwork = {
    mode: "tap",
    words: tap.cmdlineWords,
    guestIp: tap.plan.guestIp,
    tap,
    ...(faults && runner === "vmm" ? { faults } : {}),
    publish,
    close: async () => {
      if (done) return;
      done = true;
      await nw.proxy?.close();
      tap.close();
    },
  };
  if (faults && runner === "qemu") process.emitWarning(`KILN_NET_FAULTS applies to Kiln's VMM only; QEMU's network is not faulted.`);
  try {
    if (publish.length > 0) nw.proxy = await startPortProxy(publish, tap.plan.guestIp);
  } catch (e) {
    tap.close();
    throw e;
  }
  return nw;
}

function userNetwork(publish: PublishedPort[], faults: NetFaults | undefined): GuestNetwork {
  if (faults) process.emitWarning(`KILN_NET_FAULTS applies to Kiln's VMM only; QEMU's user-mode network is not faulted.`);
  return { mode: "user", words: USER_WORDS, guestIp: USER_GUEST_IP, publish, close: async () => {} };
}
