// The KVM userspace ABI Kiln's VMM uses: ioctl numbers, struct sizes and field offsets.
// Every value here is checked against /usr/include/linux/kvm.h by abi.test.ts, which compiles
// a C program printing the header's values; add a C expression there for anything added here.

/** ioctl request numbers (x86_64). */
export const IOCTL = {
  GET_API_VERSION: 0xae00,
  CREATE_VM: 0xae01,
  CHECK_EXTENSION: 0xae03,
  GET_VCPU_MMAP_SIZE: 0xae04,
  GET_SUPPORTED_CPUID: 0xc008ae05,
  CREATE_VCPU: 0xae41,
  SET_USER_MEMORY_REGION: 0x4020ae46,
  SET_TSS_ADDR: 0xae47,
  SET_IDENTITY_MAP_ADDR: 0x4008ae48,
  CREATE_IRQCHIP: 0xae60,
  IRQ_LINE: 0x4008ae61,
  CREATE_PIT2: 0x4040ae77,
  RUN: 0xae80,
  GET_REGS: 0x8090ae81,
  SET_REGS: 0x4090ae82,
  GET_SREGS: 0x8138ae83,
  SET_SREGS: 0x4138ae84,
  SET_SIGNAL_MASK: 0x4004ae8b,
  SET_CPUID2: 0x4008ae90,
  GET_TSC_KHZ: 0xaea3,
  // Machine state, saved from a fresh VM and put back when a pooled shell is reset (shell.ts).
  GET_MSR_INDEX_LIST: 0xc004ae02,
  GET_MSRS: 0xc008ae88,
  SET_MSRS: 0x4008ae89,
  GET_FPU: 0x81a0ae8c,
  SET_FPU: 0x41a0ae8d,
  GET_XSAVE: 0x9000aea4,
  SET_XSAVE: 0x5000aea5,
  GET_XSAVE2: 0x9000aecf,
  GET_XCRS: 0x8188aea6,
  SET_XCRS: 0x4188aea7,
  GET_DEBUGREGS: 0x8080aea1,
  SET_DEBUGREGS: 0x4080aea2,
  GET_VCPU_EVENTS: 0x8040ae9f,
  SET_VCPU_EVENTS: 0x4040aea0,
  GET_MP_STATE: 0x8004ae98,
  SET_MP_STATE: 0x4004ae99,
  GET_LAPIC: 0x8400ae8e,
  SET_LAPIC: 0x4400ae8f,
  GET_IRQCHIP: 0xc208ae62,
  SET_IRQCHIP: 0x8208ae63,
  GET_PIT2: 0x8070ae9f,
  SET_PIT2: 0x4070aea0,
  GET_CLOCK: 0x8030ae7c,
  SET_CLOCK: 0x4030ae7b,
  IRQFD: 0x4020ae76,
  IOEVENTFD: 0x4040ae79,
} as const;

/** The only API version KVM has ever reported; anything else means an incompatible kernel. */
export const KVM_API_VERSION = 12;

/** Capabilities the VMM checks with KVM_CHECK_EXTENSION before relying on them. */
export const CAP = {
  IRQCHIP: 0,
  USER_MEMORY: 3,
  SET_TSS_ADDR: 4,
  EXT_CPUID: 7,
  PIT2: 33,
  GET_TSC_KHZ: 61,
  TSC_DEADLINE_TIMER: 72,
  IMMEDIATE_EXIT: 136,
  MP_STATE: 14,
  PIT_STATE2: 35,
  ADJUST_CLOCK: 39,
  VCPU_EVENTS: 41,
  DEBUGREGS: 50,
  XSAVE: 55,
  XCRS: 56,
  XSAVE2: 208,
  IRQFD: 32,
  IOEVENTFD: 36,
} as const;

/** kvm_run exit reasons, by number. */
export const EXIT = {
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  SET_TPR: 11,
  TPR_ACCESS: 12,
  NMI: 16,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
  IOAPIC_EOI: 26,
  X86_RDMSR: 29,
  X86_WRMSR: 30,
  X86_BUS_LOCK: 33,
  NOTIFY: 37,
} as const;

/** `KVM_EXIT_<NAME>` for a reason number, for reports; unknown numbers are shown as such. */
export function exitReasonName(reason: number): string {
  for (const [name, value] of Object.entries(EXIT)) if (value === reason) return `KVM_EXIT_${name}`;
  return `KVM_EXIT_? (${reason})`;
}

/** Field offsets inside the mmap'd struct kvm_run. */
export const RUN = {
  immediateExit: 1,
  exitReason: 8,
  // union at 32
  ioDirection: 32,
  ioSize: 33,
  ioPort: 34,
  ioCount: 36,
  ioDataOffset: 40,
  mmioPhysAddr: 32,
  mmioData: 40,
  mmioLen: 48,
  mmioIsWrite: 52,
  failEntryReason: 32,
  failEntryCpu: 40,
  internalSuberror: 32,
  internalNdata: 36,
  internalData: 40,
  systemEventType: 32,
  hwExitReason: 32,
} as const;

export const IO_DIRECTION = { IN: 0, OUT: 1 } as const;

/** struct kvm_regs: 18 u64 in this order. */
export const REGS_FIELDS = [
  "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rsp", "rbp",
  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
  "rip", "rflags",
] as const;

export const SIZE = {
  regs: 144,
  sregs: 312,
  segment: 24,
  dtable: 16,
  userspaceMemoryRegion: 32,
  cpuid2Header: 8,
  cpuidEntry2: 40,
  irqLevel: 8,
  pitConfig: 64,
  signalMaskHeader: 4,
  fpu: 416,
  xsave: 4096,
  xcrs: 392,
  debugregs: 128,
  vcpuEvents: 64,
  mpState: 4,
  lapicState: 1024,
  irqchip: 520,
  pitState2: 112,
  clockData: 48,
  msrsHeader: 8,
  msrEntry: 16,
  msrListHeader: 4,
  pitChannelState: 24,
  ioeventfd: 64,
  irqfd: 32,
} as const;

/** struct kvm_vcpu_events: the flags word and the bits that make KVM_SET_VCPU_EVENTS apply optional fields. */
export const VCPU_EVENTS = { flags: 20, validNmiPending: 1, validSipiVector: 2, validShadow: 4, validSmm: 8 } as const;

/** struct kvm_irqchip: chip_id, then the chip state; the ids. */
export const IRQCHIP = { chipId: 0, chip: 8, picMaster: 0, picSlave: 1, ioapic: 2 } as const;

/** struct kvm_msrs / kvm_msr_entry / kvm_msr_list. */
export const MSRS = { nmsrs: 0, entries: 8, entryIndex: 0, entryData: 8 } as const;

/** struct kvm_pit_state2: three struct kvm_pit_channel_state; count_load_time is a host timestamp. */
export const PIT_STATE = { channels: 0, countLoadTime: 16 } as const;

/** struct kvm_segment field offsets. */
export const SEGMENT = {
  base: 0,
  limit: 8,
  selector: 12,
  type: 14,
  present: 15,
  dpl: 16,
  db: 17,
  s: 18,
  l: 19,
  g: 20,
  avl: 21,
  unusable: 22,
} as const;

/** struct kvm_sregs field offsets (segments are struct kvm_segment, tables struct kvm_dtable). */
export const SREGS = {
  cs: 0,
  ds: 24,
  es: 48,
  fs: 72,
  gs: 96,
  ss: 120,
  tr: 144,
  ldt: 168,
  gdt: 192,
  idt: 208,
  cr0: 224,
  cr2: 232,
  cr3: 240,
  cr4: 248,
  cr8: 256,
  efer: 264,
  apicBase: 272,
  interruptBitmap: 280,
} as const;

/** struct kvm_dtable: base u64, limit u16. */
export const DTABLE = { base: 0, limit: 8 } as const;

/** struct kvm_userspace_memory_region. */
export const MEMORY_REGION = {
  slot: 0,
  flags: 4,
  guestPhysAddr: 8,
  memorySize: 16,
  userspaceAddr: 24,
} as const;

/** struct kvm_cpuid2 header and struct kvm_cpuid_entry2. */
export const CPUID2 = { nent: 0, entries: 8 } as const;
export const CPUID_ENTRY2 = {
  function: 0,
  index: 4,
  flags: 8,
  eax: 12,
  ebx: 16,
  ecx: 20,
  edx: 24,
} as const;

/** struct kvm_ioeventfd: KVM signals `fd` for a guest write of `len` bytes at `addr` (== datamatch). */
export const IOEVENTFD = { datamatch: 0, addr: 8, len: 16, fd: 20, flags: 24 } as const;
export const IOEVENTFD_FLAG = { DATAMATCH: 1, PIO: 2, DEASSIGN: 4 } as const;
/** struct kvm_irqfd: a write to `fd` injects interrupt `gsi`. */
export const IRQFD = { fd: 0, gsi: 4, flags: 8 } as const;

/** struct kvm_irq_level. */
export const IRQ_LEVEL = { irq: 0, level: 4 } as const;

/** KVM_EXIT_INTERNAL_ERROR suberrors worth naming. */
export const INTERNAL_ERROR = {
  EMULATION: 1,
  SIMUL_EX: 2,
  DELIVERY_EV: 3,
  UNEXPECTED_EXIT_REASON: 4,
} as const;

export function internalSuberrorName(code: number): string {
  for (const [name, value] of Object.entries(INTERNAL_ERROR)) if (value === code) return name.toLowerCase();
  return `suberror ${code}`;
}
