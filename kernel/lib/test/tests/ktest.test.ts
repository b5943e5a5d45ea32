// The KTEST runner end to end: a throwaway app with passing and failing tests is built as a
// test image and booted (QEMU); the console must follow docs/architecture.md section 6, every
// test must run even after failures, in (suite, name) order, and the status must be 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildApp } from "../../../../src/build/index.ts";
import { runImage, testRunner } from "../../../../src/run/index.ts";

const APP_C = String.raw`
#include <test/test.h>
#include <print/print.h>

int main(void) { return 0; }

static int order_log[8], order_n;

KTEST(zz_proto, a_passes) { order_log[order_n++] = 1; KT_ASSERT_EQ(2 + 2, 4); }
KTEST(zz_proto, b_fails_eq) { order_log[order_n++] = 2; KT_ASSERT_EQ(2 + 2, 5); kprintf("NOT REACHED\n"); }
KTEST(zz_proto, c_fails_streq) { order_log[order_n++] = 3; KT_ASSERT_STREQ("kiln", "clay"); }
KTEST(zz_proto, d_fails_null) { static int x; order_log[order_n++] = 4; KT_ASSERT_NULL(&x); }
KTEST(zz_proto, e_runs_after_failures) { order_log[order_n++] = 5; KT_ASSERT_NOTNULL(&order_n); }
/* Registered first in the file, sorts last: checks the order the runner used. */
KTEST(zz_zorder, saw_sorted_order)
{
	KT_ASSERT_EQ(order_n, 5);
	for (int i = 0; i < 5; i++)
		KT_ASSERT_EQ(order_log[i], i + 1);
}
`;

test("the runner reports pass/fail lines, runs every test, sorts, and exits 1 on failure", { timeout: 180_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "kiln-ktest-"));
  try {
    const app = path.join(dir, "app");
    mkdirSync(app);
    writeFileSync(path.join(app, "kiln.yaml"), "name: ktestproto\nmemory: 8M\nsources: [main.c]\nlibraries:\n  print: {}\n");
    writeFileSync(path.join(app, "main.c"), APP_C);
    const built = await buildApp(app, { test: true, outDir: path.join(dir, "build"), log: () => {} });
    const r = await runImage(built.image, { runner: testRunner(), memory: 8 << 20, cmdline: "", timeoutMs: 120_000 });
    const lines = r.output.split("\n").filter((l) => l.startsWith("KTEST: "));
    const begin = /^KTEST: begin (\d+)$/.exec(lines[0] ?? "");
    assert.ok(begin, `first protocol line is begin:\n${r.output}`);
    const mine = lines.filter((l) => l.includes("zz_"));
    const fileRe = "\\S*main\\.c:\\d+";
    assert.equal(mine.length, 6, r.output);
    assert.equal(mine[0], "KTEST: pass zz_proto.a_passes");
    assert.match(mine[1]!, new RegExp(`^KTEST: fail zz_proto\\.b_fails_eq ${fileRe}: KT_ASSERT_EQ\\(2 \\+ 2, 5\\): 4 \\(0x4\\) vs 5 \\(0x5\\)$`));
    assert.match(mine[2]!, new RegExp(`^KTEST: fail zz_proto\\.c_fails_streq ${fileRe}: KT_ASSERT_STREQ\\("kiln", "clay"\\): "kiln" vs "clay"$`));
    assert.match(mine[3]!, new RegExp(`^KTEST: fail zz_proto\\.d_fails_null ${fileRe}: KT_ASSERT_NULL\\(&x\\): 0x[0-9a-f]+$`));
    assert.equal(mine[4], "KTEST: pass zz_proto.e_runs_after_failures");
    assert.equal(mine[5], "KTEST: pass zz_zorder.saw_sorted_order");
    assert.doesNotMatch(r.output, /NOT REACHED/, "a failed assertion returns from the test");
    const summary = /^KTEST: summary passed=(\d+) failed=(\d+)$/.exec(lines[lines.length - 1] ?? "");
    assert.ok(summary, `last protocol line is the summary:\n${r.output}`);
    assert.equal(Number(summary[2]), 3);
    assert.equal(Number(summary[1]) + Number(summary[2]), Number(begin[1]), "every announced test reported");
    assert.equal(lines.filter((l) => /^KTEST: (pass|fail) /.test(l)).length, Number(begin[1]));
    assert.equal(r.status, 1, "failed tests make the image exit 1");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
