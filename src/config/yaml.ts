// Reading YAML manifests and turning schema failures into KilnConfigErrors that name the key.
import { readFile } from "node:fs/promises";
import * as path from "node:path";
import YAML from "yaml";
import type { z } from "zod";
import { KilnConfigError } from "../errors.ts";
import { echo, quote } from "../quote.ts";

/** A KilnConfigError whose fix reads as a sentence (ends with punctuation). */
export function configError(file: string, key: string, problem: string, fixText: string): KilnConfigError {
  const f = /[.?!]$/.test(fixText) ? fixText : `${fixText}.`;
  return new KilnConfigError(file, key, problem, f);
}

/** A path as the user should see it: relative to the working directory when inside it. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

/** `["requires", 1, "default"]` -> `requires[1].default`. */
export function keyOf(parts: readonly PropertyKey[]): string {
  let out = "";
  for (const p of parts) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || "(top level)";
}

/** Reads and parses a YAML file; a missing file or a syntax error is a KilnConfigError. */
export async function readYamlFile(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw configError(
      displayPath(file),
      "(file)",
      code === "ENOENT" ? "no such file" : `cannot read it (${code ?? String(err)})`,
      `Create the ${what} or check the path`,
    );
  }
  const doc = YAML.parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0];
    const where = line ? `line ${line.line}, column ${line.col}` : "(syntax)";
    // The yaml package's message repeats the position and a code excerpt; keep its first line.
    const msg = first.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    // The classic slip: an unquoted value holding ": " (e.g. a description) reads as a mapping.
    const hint = first.code === "BLOCK_AS_IMPLICIT_KEY" ? ': quote the value if it contains ": "' : "";
    throw configError(displayPath(file), where, `invalid YAML: ${msg}`, `Fix the YAML syntax${hint}`);
  }
  return doc.toJS();
}

/** Marks a schema's error text as the fix to show (the problem is derived from the issue code). */
export function fix(text: string): { error: string } {
  return { error: FIX_MARK + text };
}
const FIX_MARK = "fix:";

/** Describes a YAML value for "got ..." phrases. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `the string ${quote(value)}`;
  if (typeof value === "number") return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  return `${typeof value} ${String(value)}`;
}

/** A scalar as written (JSON), anything else described. */
function shortValue(value: unknown): string {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? echo(value) : describe(value);
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "an integer",
  boolean: "true or false",
  null: "an empty value",
  object: "a mapping",
  array: "a list",
  record: "a mapping",
};

function valueAt(root: unknown, parts: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const p of parts) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

type Issue = z.core.$ZodIssue;

/** Chooses the most useful issue of a failed union: the branch that accepted the value's shape. */
function unionIssue(issue: Issue & { code: "invalid_union" }): Issue | undefined {
  const matching = issue.errors.filter(
    (branch) => !branch.some((i) => i.code === "invalid_type" && i.path.length === 0),
  );
  const branch = matching[0];
  if (matching.length !== 1 || !branch || !branch[0]) return undefined;
  const inner = branch[0];
  return { ...inner, path: [...issue.path, ...inner.path] } as Issue;
}

/** Converts the first zod issue into a KilnConfigError (file, dotted key, problem, fix). */
export function schemaError(file: string, data: unknown, error: z.ZodError): KilnConfigError {
  // An unknown key usually explains the rest (a misspelt key is also a missing one): report it first.
  let issue = (error.issues.find((i) => i.code === "unrecognized_keys") ?? error.issues[0]) as Issue;
  while (issue.code === "invalid_union") {
    const inner = unionIssue(issue);
    if (!inner) break;
    issue = inner;
  }
  const custom = issue.message.startsWith(FIX_MARK) ? issue.message.slice(FIX_MARK.length) : undefined;
  const value = valueAt(data, issue.path);
  const shown = displayPath(file);
  switch (issue.code) {
    case "unrecognized_keys": {
      const keys = issue.keys;
      const key = keyOf([...issue.path, keys[0]!]);
      const problem = keys.length === 1 ? `unknown key ${quote(keys[0]!)}` : `unknown keys ${keys.map((k) => quote(k)).join(", ")}`;
      return configError(shown, key, problem, custom ?? "Remove it");
    }
    case "invalid_type": {
      const expected = TYPE_NAMES[issue.expected] ?? issue.expected;
      const problem = value === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${describe(value)}`;
      return configError(shown, keyOf(issue.path), problem, custom ?? (value === undefined ? "Add it" : `Write ${expected}`));
    }
    case "invalid_union": {
      const expected = issue.errors
        .flatMap((b) => b.filter((i) => i.code === "invalid_type" && i.path.length === 0))
        .map((i) => TYPE_NAMES[(i as { expected: string }).expected] ?? (i as { expected: string }).expected);
      const alts = [...new Set(expected)];
      const list = alts.length > 1 ? `${alts.slice(0, -1).join(", ")} or ${alts[alts.length - 1]}` : alts.join("");
      const problem = `expected ${list}, got ${describe(value)}`;
      return configError(shown, keyOf(issue.path), problem, custom ?? "See docs/architecture.md for the format");
    }
    case "invalid_value":
      return configError(
        shown,
        keyOf(issue.path),
        `invalid value ${shortValue(value)}`,
        custom ?? `Use one of: ${issue.values.map((v) => String(v)).join(", ")}`,
      );
    case "invalid_key": {
      const inner = issue.issues[0];
      const innerFix = inner?.message.startsWith(FIX_MARK) ? inner.message.slice(FIX_MARK.length) : undefined;
      const name = String(issue.path[issue.path.length - 1]);
      return configError(shown, keyOf(issue.path), `invalid name ${quote(name)}`, custom ?? innerFix ?? "Rename it");
    }
    case "too_small":
      if ((Array.isArray(value) || typeof value === "string") && issue.minimum === 1) {
        const problem = Array.isArray(value) ? "the list is empty" : "empty";
        return configError(shown, keyOf(issue.path), problem, custom ?? (Array.isArray(value) ? "Add at least one entry" : "Write a value"));
      }
    // fall through
    case "too_big": {
      const bound = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const problem = Array.isArray(value) || typeof value === "string"
        ? `${describe(value)} is too ${issue.code === "too_small" ? "short" : "long"}`
        : `${describe(value)} is too ${issue.code === "too_small" ? "small" : "large"} (limit ${String(bound)})`;
      return configError(shown, keyOf(issue.path), problem, custom ?? "Change the value");
    }
    default:
      return configError(shown, keyOf(issue.path), `invalid value ${shortValue(value)}`, custom ?? issue.message);
  }
}
