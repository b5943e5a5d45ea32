// Checks every constant in abi.ts against /usr/include/linux/kvm.h, compiled here with gcc.
import { test } from "node:test";
import { strict as assert } from "node:assert";
import * as abi from "./abi.ts";
import { probeValues } from "./testing/cprobe.ts";

const R = "struct kvm_run";
const S = "struct kvm_sregs";
const G = "struct kvm_segment";

// TS name -> the C expression it must equal.
const expected: Record<string, string> = {
  ...Object.fromEntries(Object.keys(abi.IOCTL).map((k) => [`IOCTL.${k}`, `KVM_${k}`])),
  KVM_API_VERSION: "KVM_API_VERSION",
  ...Object.fromEntries(Object.keys(abi.CAP).map((k) => [`CAP.${k}`, `KVM_CAP_${k}`])),
  ...Object.fromEntries(Object.keys(abi.EXIT).map((k) => [`EXIT.${k}`, `KVM_EXIT_${k}`])),
  "RUN.immediateExit": `offsetof(${R}, immediate_exit)`,
  "RUN.exitReason": `offsetof(${R}, exit_reason)`,
  "RUN.ioDirection": `offsetof(${R}, io.direction)`,
  "RUN.ioSize": `offsetof(${R}, io.size)`,
  "RUN.ioPort": `offsetof(${R}, io.port)`,
  "RUN.ioCount": `offsetof(${R}, io.count)`,
  "RUN.ioDataOffset": `offsetof(${R}, io.data_offset)`,
  "RUN.mmioPhysAddr": `offsetof(${R}, mmio.phys_addr)`,
  "RUN.mmioData": `offsetof(${R}, mmio.data)`,
  "RUN.mmioLen": `offsetof(${R}, mmio.len)`,
  "RUN.mmioIsWrite": `offsetof(${R}, mmio.is_write)`,
  "RUN.failEntryReason": `offsetof(${R}, fail_entry.hardware_entry_failure_reason)`,
  "RUN.failEntryCpu": `offsetof(${R}, fail_entry.cpu)`,
  "RUN.internalSuberror": `offsetof(${R}, internal.suberror)`,
  "RUN.internalNdata": `offsetof(${R}, internal.ndata)`,
  "RUN.internalData": `offsetof(${R}, internal.data)`,
  "RUN.systemEventType": `offsetof(${R}, system_event.type)`,
  "RUN.hwExitReason": `offsetof(${R}, hw.hardware_exit_reason)`,
  "IO_DIRECTION.IN": "KVM_EXIT_IO_IN",
  "IO_DIRECTION.OUT": "KVM_EXIT_IO_OUT",
  ...Object.fromEntries(abi.REGS_FIELDS.map((f, i) => [`REGS_FIELDS.${i}`, `offsetof(struct kvm_regs, ${f}) / 8`])),
  "SIZE.regs": "sizeof(struct kvm_regs)",
  "SIZE.sregs": "sizeof(struct kvm_sregs)",
  "SIZE.segment": "sizeof(struct kvm_segment)",
  "SIZE.dtable": "sizeof(struct kvm_dtable)",
  "SIZE.userspaceMemoryRegion": "sizeof(struct kvm_userspace_memory_region)",
  "SIZE.cpuid2Header": "sizeof(struct kvm_cpuid2)",
  "SIZE.cpuidEntry2": "sizeof(struct kvm_cpuid_entry2)",
  "SIZE.irqLevel": "sizeof(struct kvm_irq_level)",
  "SIZE.pitConfig": "sizeof(struct kvm_pit_config)",
  "SIZE.signalMaskHeader": "sizeof(struct kvm_signal_mask)",
  "SIZE.fpu": "sizeof(struct kvm_fpu)",
  "SIZE.xsave": "sizeof(struct kvm_xsave)",
  "SIZE.xcrs": "sizeof(struct kvm_xcrs)",
  "SIZE.debugregs": "sizeof(struct kvm_debugregs)",
  "SIZE.vcpuEvents": "sizeof(struct kvm_vcpu_events)",
  "SIZE.mpState": "sizeof(struct kvm_mp_state)",
  "SIZE.lapicState": "sizeof(struct kvm_lapic_state)",
  "SIZE.irqchip": "sizeof(struct kvm_irqchip)",
  "SIZE.pitState2": "sizeof(struct kvm_pit_state2)",
  "SIZE.clockData": "sizeof(struct kvm_clock_data)",
  "SIZE.msrsHeader": "sizeof(struct kvm_msrs)",
  "SIZE.msrEntry": "sizeof(struct kvm_msr_entry)",
  "SIZE.msrListHeader": "sizeof(struct kvm_msr_list)",
  "SIZE.pitChannelState": "sizeof(struct kvm_pit_channel_state)",
  "VCPU_EVENTS.flags": "offsetof(struct kvm_vcpu_events, flags)",
  "VCPU_EVENTS.validNmiPending": "KVM_VCPUEVENT_VALID_NMI_PENDING",
  "VCPU_EVENTS.validSipiVector": "KVM_VCPUEVENT_VALID_SIPI_VECTOR",
  "VCPU_EVENTS.validShadow": "KVM_VCPUEVENT_VALID_SHADOW",
  "VCPU_EVENTS.validSmm": "KVM_VCPUEVENT_VALID_SMM",
  "IRQCHIP.chipId": "offsetof(struct kvm_irqchip, chip_id)",
  "IRQCHIP.chip": "offsetof(struct kvm_irqchip, chip)",
  "IRQCHIP.picMaster": "KVM_IRQCHIP_PIC_MASTER",
  "IRQCHIP.picSlave": "KVM_IRQCHIP_PIC_SLAVE",
  "IRQCHIP.ioapic": "KVM_IRQCHIP_IOAPIC",
  "MSRS.nmsrs": "offsetof(struct kvm_msrs, nmsrs)",
  "MSRS.entries": "offsetof(struct kvm_msrs, entries)",
  "MSRS.entryIndex": "offsetof(struct kvm_msr_entry, index)",
  "MSRS.entryData": "offsetof(struct kvm_msr_entry, data)",
  "PIT_STATE.channels": "offsetof(struct kvm_pit_state2, channels)",
  "PIT_STATE.countLoadTime": "offsetof(struct kvm_pit_channel_state, count_load_time)",
  ...Object.fromEntries(Object.keys(abi.SEGMENT).map((k) => [`SEGMENT.${k}`, `offsetof(${G}, ${k})`])),
  ...Object.fromEntries(
    Object.keys(abi.SREGS).map((k) => [
      `SREGS.${k}`,
      `offsetof(${S}, ${k === "apicBase" ? "apic_base" : k === "interruptBitmap" ? "interrupt_bitmap" : k})`,
    ]),
  ),
  "DTABLE.base": "offsetof(struct kvm_dtable, base)",
  "DTABLE.limit": "offsetof(struct kvm_dtable, limit)",
  "MEMORY_REGION.slot": "offsetof(struct kvm_userspace_memory_region, slot)",
  "MEMORY_REGION.flags": "offsetof(struct kvm_userspace_memory_region, flags)",
  "MEMORY_REGION.guestPhysAddr": "offsetof(struct kvm_userspace_memory_region, guest_phys_addr)",
  "MEMORY_REGION.memorySize": "offsetof(struct kvm_userspace_memory_region, memory_size)",
  "MEMORY_REGION.userspaceAddr": "offsetof(struct kvm_userspace_memory_region, userspace_addr)",
  "CPUID2.nent": "offsetof(struct kvm_cpuid2, nent)",
  "CPUID2.entries": "offsetof(struct kvm_cpuid2, entries)",
  ...Object.fromEntries(
    Object.keys(abi.CPUID_ENTRY2).map((k) => [`CPUID_ENTRY2.${k}`, `offsetof(struct kvm_cpuid_entry2, ${k})`]),
  ),
  "SIZE.ioeventfd": "sizeof(struct kvm_ioeventfd)",
  "SIZE.irqfd": "sizeof(struct kvm_irqfd)",
  ...Object.fromEntries(Object.keys(abi.IOEVENTFD).map((k) => [`IOEVENTFD.${k}`, `offsetof(struct kvm_ioeventfd, ${k})`])),
  "IOEVENTFD_FLAG.DATAMATCH": "KVM_IOEVENTFD_FLAG_DATAMATCH",
  "IOEVENTFD_FLAG.PIO": "KVM_IOEVENTFD_FLAG_PIO",
  "IOEVENTFD_FLAG.DEASSIGN": "KVM_IOEVENTFD_FLAG_DEASSIGN",
  ...Object.fromEntries(Object.keys(abi.IRQFD).map((k) => [`IRQFD.${k}`, `offsetof(struct kvm_irqfd, ${k})`])),
  "IRQ_LEVEL.irq": "offsetof(struct kvm_irq_level, irq)",
  "IRQ_LEVEL.level": "offsetof(struct kvm_irq_level, level)",
  ...Object.fromEntries(
    Object.keys(abi.INTERNAL_ERROR).map((k) => [`INTERNAL_ERROR.${k}`, `KVM_INTERNAL_ERROR_${k}`]),
  ),
};

/** Every numeric constant abi.ts exports, flattened to `OBJECT.key`. */
function tsValues(): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, value] of Object.entries(abi)) {
    if (typeof value === "number") out.set(name, value);
    else if (Array.isArray(value)) value.forEach((_f, i) => out.set(`${name}.${i}`, i));
    else if (value !== null && typeof value === "object")
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        if (typeof v === "number") out.set(`${name}.${k}`, v);
  }
  return out;
}

test("every KVM constant and offset in abi.ts matches linux/kvm.h", () => {
  const ts = tsValues();
  const missing = [...ts.keys()].filter((k) => !(k in expected));
  assert.deepEqual(missing, [], "constants in abi.ts without a C check in abi.test.ts");
  const c = probeValues(["linux/kvm.h"], "", expected);
  assert.equal(c.size, Object.keys(expected).length);
  for (const [name, value] of ts) assert.equal(BigInt(value), c.get(name), `${name}: TS ${value} vs C ${c.get(name)}`);
});

test("exit reason names", () => {
  assert.equal(abi.exitReasonName(8), "KVM_EXIT_SHUTDOWN");
  assert.equal(abi.exitReasonName(999), "KVM_EXIT_? (999)");
  assert.equal(abi.internalSuberrorName(1), "emulation");
});
