// The build refuses an image whose CPL-3 code breaks the kvm-pvm rules: an app whose main holds
// each forbidden instruction fails to build, and the error names each one with what to use.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveApp } from "../src/config/index.ts";
import { build } from "../src/build/index.ts";

const FORBIDDEN: Array<{ asm: string; shows: RegExp }> = [
  { asm: "cli", shows: /main\+0x[0-9a-f]+ \(0x[0-9a-f]+\): cli: IF is always 0 at CPL 3/ },
  { asm: "sti", shows: /: sti: IF is always 0/ },
  { asm: "hlt", shows: /: hlt: arm a timer and call arch_idle_halt\(\)/ },
  { asm: "popfq", shows: /: popf[q]?: popf cannot change IF or IOPL/ },
  { asm: "int $0x80", shows: /: int \$0x80: only int3 and int \$4/ },
  { asm: ".byte 0xf1", shows: /: (int1|icebp): int1 is a fault on kvm-pvm/ },
  { asm: "sysenter", shows: /: sysenter: sysenter is #UD on kvm-pvm/ },
  { asm: "sysretq", shows: /: sysretq?: sysret is CPL-0 only/ },
  { asm: "swapgs", shows: /: swapgs: swapgs is CPL-0 only/ },
  { asm: "lgdt (%rax)", shows: /: lgdt[q]? \(%rax\): arch-x86_64's boot path loads/ },
  { asm: "lidt (%rax)", shows: /: lidt[q]? \(%rax\): arch-x86_64's boot path loads/ },
  { asm: "ltr %ax", shows: /: ltr %ax: arch-x86_64's boot path loads/ },
  { asm: "mov %cr3, %rax", shows: /: mov %cr3,%rax: control registers are CPL 0/ },
  { asm: "mov %rax, %cr0", shows: /: mov %rax,%cr0: control registers are CPL 0/ },
  { asm: "rdmsr", shows: /: rdmsr: use arch_rdmsr\(\)/ },
  { asm: "wrmsr", shows: /: wrmsr: use arch_wrmsr\(\)/ },
  { asm: "invlpg (%rax)", shows: /: invlpg \(%rax\): use arch_invlpg_range\(\)/ },
  { asm: "inb $0x80, %al", shows: /: in \$0x80,%al: port 0x80 is declared by no selected library/ },
  { asm: "outb %al, $0x70", shows: /: out %al,\$0x70: port 0x70 is declared by no selected library/ },
];

test("an app whose main holds each forbidden instruction does not build; each is named", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-cpl3-"));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const app = path.join(dir, "badinsns");
  fs.mkdirSync(app);
  // Allowed alongside: int3, and immediate ports the selected libraries declare (time: the PIT).
  const body = [...FORBIDDEN.map((f) => f.asm), "int3", "inb $0x40, %al", "outb %al, $0x43"]
    .map((a) => `\t__asm__ volatile(${JSON.stringify(a)});`)
    .join("\n");
  fs.writeFileSync(path.join(app, "main.c"), `static volatile int never;\nint main(void)\n{\n\tif (never) {\n${body}\n\t}\n\treturn 0;\n}\n`);
  fs.writeFileSync(path.join(app, "kiln.yaml"), "name: badinsns\nmemory: 2M\nsources: [main.c]\n");
  const cfg = await resolveApp(app, { sets: [] });
  const outDir = path.join(dir, "build");
  await assert.rejects(build(cfg, { outDir, log: () => {} }), (e: Error) => {
    assert.match(e.message, /the image has \d+ instructions that break the CPL-3 rules/);
    for (const f of FORBIDDEN) assert.match(e.message, f.shows, `${f.asm} in:\n${e.message}`);
    assert.doesNotMatch(e.message, /: int3:|\$0x40,|,\$0x43:/, "allowed instructions are not listed");
    assert.match(e.message, new RegExp(`the image has ${FORBIDDEN.length} instructions`));
    assert.match(e.message, /goes in section \.text\.kiln_faults/);
    return true;
  });
  assert.ok(!fs.existsSync(path.join(outDir, "image.elf")), "no bootable image is left behind");
});
