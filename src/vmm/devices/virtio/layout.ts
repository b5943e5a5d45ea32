// Where Kiln's VMM puts virtio-mmio devices and how it tells the guest: windows of 512 bytes
// from 0xd0000000 (the 3-4 GiB hole, clear of the IOAPIC, LAPIC and KVM's TSS pages), IRQs
// from 5, announced as `virtio_mmio.device=512@0x...:irq` at the end of the command line, as
// QEMU microvm and Firecracker do.
import type { DeviceName } from "../../elf.ts";
import { MMIO_WINDOW } from "./spec.ts";

export const VIRTIO_MMIO_BASE = 0xd0000000;
export const VIRTIO_FIRST_IRQ = 5;

export interface VirtioSlot {
  name: DeviceName;
  base: number;
  irq: number;
}

export function virtioSlots(devices: readonly DeviceName[]): VirtioSlot[] {
  return devices.map((name, i) => ({ name, base: VIRTIO_MMIO_BASE + i * MMIO_WINDOW, irq: VIRTIO_FIRST_IRQ + i }));
}

/** The command line with the devices announced at its end. */
export function announceVirtio(cmdline: string, slots: readonly VirtioSlot[]): string {
  const words = slots.map((s) => `virtio_mmio.device=${MMIO_WINDOW}@0x${s.base.toString(16)}:${s.irq}`);
  return [cmdline, ...words].filter((w) => w !== "").join(" ");
}
