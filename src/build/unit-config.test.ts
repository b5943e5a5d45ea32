import { test } from "node:test";
import { strict as assert } from "node:assert";
import { configNames, renderConfigHeader, stripCommentsAndStrings } from "./unit-config.ts";

test("configNames: names used in code, not in comments or literals", () => {
  const text = [
    "/* CONFIG_IN_BLOCK",
    "   still CONFIG_IN_BLOCK */ int a = CONFIG_AFTER_BLOCK;",
    "// CONFIG_IN_LINE",
    'warn("CONFIG_IN_STRING \\" CONFIG_STILL_STRING"); char c = \'"\'; int b = CONFIG_AFTER_CHAR;',
    "#if CONFIG_LIB_ALLOC && defined(CONFIG_X_Y_Z)",
    "char buf[CONFIG_PRINT_BUFSIZE];",
    "int NOT_CONFIG_THIS; int MYCONFIG_NO;",
  ].join("\n");
  assert.deepEqual([...configNames(text)].sort(), ["CONFIG_AFTER_BLOCK", "CONFIG_AFTER_CHAR", "CONFIG_LIB_ALLOC", "CONFIG_PRINT_BUFSIZE", "CONFIG_X_Y_Z"]);
  assert.equal(stripCommentsAndStrings('x /* a */ y "s" z'), 'x   y "" z');
  assert.deepEqual([...configNames("/* unterminated CONFIG_A")], []);
});

test("renderConfigHeader: a guarded header of the given macros in order", () => {
  const h = renderConfigHeader("alloc-tlsf", [{ name: "CONFIG_LIB_ALLOC_TLSF", value: "1", owner: "alloc-tlsf" }, { name: "CONFIG_KILN_TEST", value: "1" }]);
  assert.match(h, /#ifndef KILN_CONFIG_ALLOC_TLSF_H\n#define KILN_CONFIG_ALLOC_TLSF_H\n#define CONFIG_LIB_ALLOC_TLSF 1\n#define CONFIG_KILN_TEST 1\n#endif/);
  assert.match(h, /do not edit/);
});
