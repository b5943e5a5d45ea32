import { test } from "node:test";
import { strict as assert } from "node:assert";
import { ECHO_MAX, quote, visible } from "./quote.ts";

test("quote escapes control and invisible characters visibly", () => {
  assert.equal(quote("a\0b"), '"a\\0b"');
  assert.equal(quote("x\ny\tz\r"), '"x\\ny\\tz\\r"');
  assert.equal(quote("\x1b[31m"), '"\\x1b[31m"', "no terminal escape gets through");
  assert.equal(quote("\x7f\x85"), '"\\x7f\\x85"');
  assert.equal(quote("abc\u202edef"), '"abc\\u{202e}def"', "a bidi override is shown, not obeyed");
  assert.equal(quote('say "hi" \\'), '"say \\"hi\\" \\\\"');
  assert.equal(quote("héllo ✓"), '"héllo ✓"', "printable non-ASCII stays as is");
});

test("quote cuts long values and says how long they were", () => {
  const long = "a".repeat(5114);
  const q = quote(long);
  assert.equal(q, `"${"a".repeat(ECHO_MAX)}…" (5114 characters)`);
  assert.equal(quote("a".repeat(ECHO_MAX)), `"${"a".repeat(ECHO_MAX)}"`, "exactly the limit is not cut");
  assert.equal(quote("🙂".repeat(ECHO_MAX + 1)).startsWith(`"${"🙂".repeat(ECHO_MAX)}…"`), true, "cut on characters, not UTF-16 halves");
});

test("visible escapes without quoting", () => {
  assert.equal(visible('a"b\0'), 'a"b\\0');
  assert.equal(visible("k".repeat(100), 10), "kkkkkkkkkk… (100 characters)");
});
