// Checking option values against their specs, from YAML (typed) and from --set (text).
import type { OptionSpec, OptionValue } from "./types.ts";
import { describe } from "./yaml.ts";
import { quote } from "../quote.ts";

/** A value problem, to be wrapped in a KilnConfigError by the caller who knows file and key. */
export interface ValueProblem {
  problem: string;
  fix: string;
}

/** What values an option accepts, for fix texts: "an integer in 16..4096", "one of fast, small". */
export function accepted(spec: Pick<OptionSpec, "type" | "min" | "max" | "choices">): string {
  switch (spec.type) {
    case "bool":
      return "true or false";
    case "string":
      return "a string";
    case "choice":
      return `one of ${(spec.choices ?? []).join(", ")}`;
    case "int":
      if (spec.min !== undefined && spec.max !== undefined) return `an integer in ${spec.min}..${spec.max}`;
      if (spec.min !== undefined) return `an integer >= ${spec.min}`;
      if (spec.max !== undefined) return `an integer <= ${spec.max}`;
      return "an integer";
  }
}

/** Checks a typed value (from YAML or a parsed --set) against the spec; undefined when fine. */
export function checkValue(spec: Pick<OptionSpec, "type" | "min" | "max" | "choices">, value: unknown): ValueProblem | undefined {
  const fix = `Use ${accepted(spec)}`;
  switch (spec.type) {
    case "bool":
      if (typeof value !== "boolean") return { problem: `expected true or false, got ${describe(value)}`, fix };
      return undefined;
    case "string":
      if (typeof value !== "string") {
        const quote = typeof value === "number" || typeof value === "boolean" ? ` (quote it: "${String(value)}")` : "";
        return { problem: `expected a string, got ${describe(value)}`, fix: `${fix}${quote}` };
      }
      return undefined;
    case "int":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) {
        return { problem: `expected an integer, got ${describe(value)}`, fix };
      }
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        return { problem: `${value} is out of range`, fix };
      }
      return undefined;
    case "choice":
      if (typeof value !== "string" || !(spec.choices ?? []).includes(value)) {
        return { problem: `${describe(value)} is not a valid choice`, fix };
      }
      return undefined;
  }
}

const TRUE = new Set(["true", "1", "yes", "on"]);
const FALSE = new Set(["false", "0", "no", "off"]);

/** Parses command-line text per the option type, then checks it like a YAML value. */
export function parseValue(spec: OptionSpec, text: string): { value: OptionValue } | ValueProblem {
  let value: OptionValue;
  switch (spec.type) {
    case "bool": {
      const t = text.trim().toLowerCase();
      if (TRUE.has(t)) value = true;
      else if (FALSE.has(t)) value = false;
      else return { problem: `${quote(text)} is not a boolean`, fix: "Use true/false, 1/0 or yes/no" };
      break;
    }
    case "int": {
      const t = text.trim();
      if (!/^-?(0x[0-9a-f]+|\d+)$/i.test(t)) return { problem: `${quote(text)} is not an integer`, fix: `Use ${accepted(spec)}` };
      const neg = t.startsWith("-");
      const abs = Number(neg ? t.slice(1) : t);
      value = neg ? -abs : abs;
      break;
    }
    default:
      value = text;
  }
  const problem = checkValue(spec, value);
  return problem ?? { value };
}

/** How a value reads in tables and messages: strings quoted, the rest as is. */
export function formatValue(value: OptionValue): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
