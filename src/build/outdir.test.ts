import { after, test } from "node:test";
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { KilnError } from "../errors.ts";
import { prepareOutDir } from "./outdir.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-outdir-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Asserts a one-line KilnError naming `shown` and matching `what`. */
function refused(dir: string, shown: string, what: RegExp): void {
  assert.throws(() => prepareOutDir(dir), (e: unknown) => {
    assert.ok(e instanceof KilnError, String(e));
    assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
    assert.ok(e.message.startsWith(`build directory "${shown}": `), e.message);
    assert.match(e.message, what);
    assert.match(e.message, /\. [A-Z].*\.$/, "ends with the fix");
    return true;
  });
}

test("creates missing levels one at a time and returns the absolute path", () => {
  const d = path.join(tmp, "a", "b", "c");
  assert.equal(prepareOutDir(d), d);
  assert.ok(fs.statSync(d).isDirectory());
  assert.equal(prepareOutDir(d), d, "an existing directory is fine");
});

test("an existing file, or a file in the way, is refused and nothing is created", () => {
  const file = path.join(tmp, "afile");
  fs.writeFileSync(file, "x");
  refused(file, file, /it exists and is not a directory\. Remove or rename the file/);
  refused(path.join(file, "sub", "dir"), path.join(file, "sub", "dir"), /a part of the path is a file, not a directory/);
  assert.equal(fs.readFileSync(file, "utf8"), "x");
});

test("the empty path is refused, not taken as the current directory", () => {
  refused("", "", /the path is empty\. Name a directory/);
  refused("  ", "  ", /the path is empty/);
});

test("/proc, /sys and /dev are refused at once (no recursive mkdir that hangs under /proc)", { timeout: 5000 }, () => {
  refused("/proc/x", "/proc/x", /on proc, a kernel virtual filesystem/);
  refused("/proc/self/x/y", "/proc/self/x/y", /on proc, a kernel virtual filesystem/);
  refused("/sys/x", "/sys/x", /on sys, a kernel virtual filesystem/);
  refused("/dev/kiln-x", "/dev/kiln-x", /on dev, a kernel virtual filesystem/);
  assert.equal(fs.existsSync("/dev/kiln-x"), false);
});

test("a parent this user cannot write to is refused before any mkdir", { skip: process.getuid?.() === 0 ? "root may write anywhere" : false }, () => {
  const ro = path.join(tmp, "ro");
  fs.mkdirSync(ro, { mode: 0o555 });
  try {
    refused(path.join(ro, "x", "y"), path.join(ro, "x", "y"), /ro is not writable by this user/);
    assert.equal(fs.existsSync(path.join(ro, "x")), false);
  } finally {
    fs.chmodSync(ro, 0o755);
  }
});

test("control characters in the path are shown escaped", () => {
  const file = path.join(tmp, "bad\u0001name");
  fs.writeFileSync(file, "");
  refused(file, path.join(tmp, "bad\\x01name"), /not a directory/);
});
