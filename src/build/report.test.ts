import { test } from "node:test";
import { strict as assert } from "node:assert";
import { formatBytes, formatReport } from "./report.ts";

test("formatBytes", () => {
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(2048), "2.0 KiB");
  assert.equal(formatBytes(3 * 1024 * 1024), "3.00 MiB");
});

test("the report names the image relative to cwd and lists libraries largest first with shares", () => {
  const lines = formatReport(
    { image: "/w/build/x/image.elf", debugImage: "/w/build/x/image.dbg.elf", sizes: { stripped: 2048, unstripped: 4096, byLibrary: { app: 100, "(other)": 50, print: 850 }, bssByLibrary: { print: 4096 } } },
    "/w",
  ).map((l) => l.replace(/\x1b\[[0-9;]*m/g, ""));
  assert.match(lines[0]!, /^image\s+build\/x\/image\.elf/);
  assert.match(lines[1]!, /2\.0 KiB stripped, 4\.0 KiB unstripped/);
  const rows = lines.slice(3, 6).map((l) => l.trim().split(/\s+/));
  assert.deepEqual(rows, [["print", "850", "85.0%", "4096"], ["app", "100", "10.0%"], ["(other)", "50", "5.0%"]]);
  assert.match(lines.at(-1)!, /total\s+1000\s+4096/);
});
