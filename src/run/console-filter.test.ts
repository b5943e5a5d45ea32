import { test } from "node:test";
import assert from "node:assert/strict";
import { ConsoleFilter } from "./console-filter.ts";

test("CRLF becomes LF and the exit line is hidden", () => {
  const f = new ConsoleFilter();
  const shown = f.push("Hello\r\nkiln: exit 0\r\n");
  assert.equal(shown, "Hello\n");
  assert.equal(f.raw, "Hello\nkiln: exit 0\n");
});

test("verbose shows the exit line", () => {
  const f = new ConsoleFilter({ verbose: true });
  assert.equal(f.push("kiln: exit 0\n"), "kiln: exit 0\n");
});

test("lines split across chunks are joined before filtering", () => {
  const f = new ConsoleFilter();
  let out = f.push("abc\nkiln: ex");
  out += f.push("it 7\ndef");
  out += f.end();
  assert.equal(out, "abc\ndef");
});

test("a prompt without a newline is shown at once", () => {
  const f = new ConsoleFilter();
  assert.equal(f.push("name? "), "name? ");
});

test("stack-trace lines get symbols", () => {
  const seen: Array<[bigint, boolean]> = [];
  const f = new ConsoleFilter({
    symbolize: (a, ret) => {
      seen.push([a, ret]);
      return a === 0x101234n ? "main+0x14" : undefined;
    },
  });
  const out = f.push("kiln: bt #0 0x101234\nkiln: bt #1 0x999\n");
  assert.equal(out, "kiln: bt #0 0x101234 main+0x14\nkiln: bt #1 0x999\n");
  assert.deepEqual(seen, [[0x101234n, false], [0x999n, true]], "#0 is the pc, later frames are return addresses");
});
