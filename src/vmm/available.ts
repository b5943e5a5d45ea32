// Can Kiln's VMM run here? One line saying why not, so `kiln run` can fall back to QEMU.
import { closeSync, openSync } from "node:fs";
import { CAP, IOCTL, KVM_API_VERSION } from "./abi.ts";
import { loadSys } from "./sys.ts";

export type KvmAvailability = { ok: true } | { ok: false; reason: string };

/** What the check needs from the system; replaced in tests. */
export interface KvmProbe {
  /** Opens /dev/kvm read-write: an fd, or the Node error code (ENOENT, EACCES, ...). */
  open(): number | string;
  close(fd: number): void;
  /** ioctl with an integer argument; -1 on failure. Throws if koffi cannot load. */
  ioctl(fd: number, req: number, arg: number): number;
}

export const realProbe: KvmProbe = {
  open() {
    try {
      return openSync("/dev/kvm", "r+");
    } catch (e) {
      return (e as NodeJS.ErrnoException).code ?? String(e);
    }
  },
  close(fd) {
    closeSync(fd);
  },
  ioctl(fd, req, arg) {
    return loadSys().ioctl(fd, req, arg);
  },
};

const NEEDED: Array<[number, string]> = [
  [CAP.USER_MEMORY, "user memory regions"],
  [CAP.IRQCHIP, "an in-kernel irqchip"],
  [CAP.SET_TSS_ADDR, "KVM_SET_TSS_ADDR"],
  [CAP.EXT_CPUID, "KVM_GET_SUPPORTED_CPUID"],
];

export function kvmAvailable(probe: KvmProbe = realProbe): KvmAvailability {
  const fd = probe.open();
  if (typeof fd === "string") {
    switch (fd) {
      case "ENOENT":
        return { ok: false, reason: "no /dev/kvm (KVM is not enabled on this machine or not passed to this container)" };
      case "EACCES":
      case "EPERM":
        return { ok: false, reason: "no permission to open /dev/kvm (add your user to the kvm group and log in again)" };
      case "ENXIO":
      case "ENODEV":
        return { ok: false, reason: "/dev/kvm exists but no KVM module is loaded (load kvm_intel or kvm_amd)" };
      default:
        return { ok: false, reason: `cannot open /dev/kvm (${fd})` };
    }
  }
  try {
    let version: number;
    try {
      version = probe.ioctl(fd, IOCTL.GET_API_VERSION, 0);
    } catch (e) {
      return { ok: false, reason: `cannot call into /dev/kvm: koffi failed to load (${e instanceof Error ? e.message.split("\n")[0] : String(e)})` };
    }
    if (version !== KVM_API_VERSION)
      return { ok: false, reason: `/dev/kvm reports KVM API version ${version}; Kiln's VMM needs ${KVM_API_VERSION}` };
    for (const [cap, what] of NEEDED)
      if (probe.ioctl(fd, IOCTL.CHECK_EXTENSION, cap) <= 0) return { ok: false, reason: `this kernel's KVM lacks ${what}` };
    return { ok: true };
  } finally {
    probe.close(fd);
  }
}
