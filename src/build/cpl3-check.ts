// The build's check of the CPL-3 rules (docs/architecture.md, "The kvm-pvm rules"): Kiln runs all
// code but arch-x86_64's entry and shims at CPL 3 with IOPL 0, where kvm-pvm refuses what TCG
// may allow. After linking, the image's code is disassembled (a real disassembly, never a byte
// search) and refused if it holds an instruction that faults or misbehaves there.
import { KilnError } from "../errors.ts";
import { formatPortRange, portAllowed, type PortRange } from "../config/ports.ts";
import { disassemble, withoutPrefixes, type Instruction } from "./disasm.ts";

/** Code ranges the check skips: CPL-0 code, and code that faults on purpose (tests of the rules). */
export const EXEMPT_RANGES = [
  { start: "__kiln_cpl0_start", end: "__kiln_cpl0_end", what: "CPL-0 entry and shims" },
  { start: "__kiln_faults_start", end: "__kiln_faults_end", what: "section .text.kiln_faults" },
] as const;

export interface Cpl3Violation {
  func: string;
  offset: number;
  address: number;
  insn: string;
  advice: string;
}

interface Rule {
  re: RegExp;
  advice: string | ((m: RegExpExecArray) => string | undefined);
}

const NO_MASKING = "IF is always 0 at CPL 3 and interrupts only post pending bits (<arch/irq.h>): no masking is needed";
const PRIVILEGED = "it is privileged at CPL 3; only arch-x86_64's shims (int $4, <arch/cpu.h>) run at CPL 0";

const RULES: Rule[] = [
  { re: /^cli\b/, advice: NO_MASKING },
  { re: /^sti\b/, advice: NO_MASKING },
  { re: /^hlt\b/, advice: "arm a timer and call arch_idle_halt() (<arch/cpu.h>)" },
  { re: /^popf[wlq]?\b/, advice: "popf cannot change IF or IOPL at CPL 3 (kvm-pvm ignores it, TCG faults or obeys): keep that state in software" },
  {
    re: /^int\s+\$0x([0-9a-f]+)\b/,
    advice: (m) =>
      m[1] === "3" || m[1] === "4" ? undefined : "only int3 and int $4 (the shim gate, <arch/cpu.h>) enter CPL 0; kvm-pvm makes every other int $N a #UD",
  },
  { re: /^(int1|icebp)\b/, advice: "int1 is a fault on kvm-pvm and #UD under TCG: use int3" },
  { re: /^sysenter\b/, advice: "sysenter is #UD on kvm-pvm; use syscall (arch_syscall_enable)" },
  { re: /^sysexit[lq]?\b/, advice: PRIVILEGED },
  { re: /^sysret[lq]?\b/, advice: "sysret is CPL-0 only; the syscall entry (arch-x86_64) returns for you" },
  { re: /^swapgs\b/, advice: "swapgs is CPL-0 only; set the FS base with arch_set_fsbase()" },
  { re: /^(lgdt|lidt|lldt|ltr)[wlq]?\b/, advice: "arch-x86_64's boot path loads the descriptor tables once" },
  { re: /^mov[lq]?\s.*%cr\d/, advice: "control registers are CPL 0: arch_invlpg_range()/arch_flush_tlb() cover the TLB" },
  { re: /^mov[lq]?\s.*%db\d/, advice: "debug registers are CPL 0" },
  { re: /^rdmsr\b/, advice: "use arch_rdmsr() (the int $4 shim)" },
  { re: /^wrmsr\b/, advice: "use arch_wrmsr() (the int $4 shim)" },
  { re: /^invlpg\b/, advice: "use arch_invlpg_range() (one shim entry for many pages)" },
  { re: /^(invd|wbinvd|clts|lmsw|xsetbv|invpcid|rdpmc)\b/, advice: PRIVILEGED },
];

const WIDTH: Record<string, number> = { al: 1, ax: 2, eax: 4 };
/** `in $0x71,%al` or `out %al,$0x80`: a port in the instruction. Ports in %dx are checked at run time. */
const PORT_IMM = /^(in|out)[bwl]?\s+(?:\$0x([0-9a-f]+),%(al|ax|eax)|%(al|ax|eax),\$0x([0-9a-f]+))/;

function portAdvice(insn: string, ports: readonly PortRange[]): string | undefined {
  const m = PORT_IMM.exec(insn);
  if (!m) return undefined;
  const port = parseInt(m[2] ?? m[5]!, 16);
  const width = WIDTH[m[3] ?? m[4]!]!;
  for (let p = port; p < port + width; p++) {
    if (!portAllowed(ports, p)) {
      return `port ${formatPortRange({ lo: p, hi: p })} is declared by no selected library, so it faults: declare it under \`ports:\` in the library.yaml of the library that uses it`;
    }
  }
  return undefined;
}

/** What is wrong with one instruction (objdump's AT&T text, prefixes included), if anything. */
export function instructionAdvice(insn: string, ports: readonly PortRange[]): string | undefined {
  const text = withoutPrefixes(insn.replace(/\s+/g, " ").trim());
  for (const r of RULES) {
    const m = r.re.exec(text);
    if (!m) continue;
    const a = typeof r.advice === "string" ? r.advice : r.advice(m);
    if (a) return a;
  }
  return portAdvice(text, ports);
}

/** Violations among disassembled instructions, outside the exempt address ranges. Pure, for tests. */
export function findCpl3Violations(insns: readonly Instruction[], opts: { ports: readonly PortRange[]; exempt: readonly { lo: number; hi: number }[] }): Cpl3Violation[] {
  const out: Cpl3Violation[] = [];
  for (const x of insns) {
    if (opts.exempt.some((r) => x.address >= r.lo && x.address < r.hi)) continue;
    const advice = instructionAdvice(x.text, opts.ports);
    if (advice) out.push({ func: x.func, offset: x.address - x.funcAddress, address: x.address, insn: x.text, advice });
  }
  return out;
}

export function formatViolations(v: readonly Cpl3Violation[], max = 40): string {
  const lines = v.slice(0, max).map((x) => `  ${x.func}+0x${x.offset.toString(16)} (0x${x.address.toString(16)}): ${x.insn}: ${x.advice}`);
  if (v.length > max) lines.push(`  ... and ${v.length - max} more`);
  return (
    `the image has ${v.length} instruction${v.length === 1 ? "" : "s"} that break${v.length === 1 ? "s" : ""} the CPL-3 rules (Kiln runs everything at CPL 3 with IOPL 0; docs/architecture.md, "The kvm-pvm rules"):\n` +
    `${lines.join("\n")}\n` +
    `Code that must fault on purpose (a test of these rules) goes in section .text.kiln_faults.`
  );
}

/** Disassembles the linked image's code and throws a KilnError listing every violation. */
export async function checkCpl3Image(image: string, symbols: ReadonlyMap<string, number>, ports: readonly PortRange[]): Promise<void> {
  const exempt = EXEMPT_RANGES.flatMap((r) => {
    const lo = symbols.get(r.start);
    const hi = symbols.get(r.end);
    return lo !== undefined && hi !== undefined ? [{ lo, hi }] : [];
  });
  const v = findCpl3Violations(await disassemble(image), { ports, exempt });
  if (v.length) throw new KilnError(`${image}: ${formatViolations(v)}`);
}
