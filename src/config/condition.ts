// Source conditions: `opt`, `!opt`, `opt=value`, `@test`, `!@test`.
import type { OptionSpec, OptionValue } from "./types.ts";
import { accepted, parseValue } from "./values.ts";
import { didYouMean } from "./suggest.ts";
import { quote } from "../quote.ts";

export type Condition =
  | { kind: "test"; negate: boolean }
  | { kind: "bool"; option: string; negate: boolean }
  | { kind: "equals"; option: string; value: OptionValue };

/** Parses a condition against the library's options; throws a message pair when it is invalid. */
export function parseCondition(
  text: string,
  options: readonly OptionSpec[],
): { condition: Condition } | { problem: string; fix: string } {
  const t = text.trim();
  const names = options.map((o) => o.name);
  const unknown = (name: string) => ({
    problem: `condition ${quote(text)} names unknown option "${name}"`,
    fix: names.length
      ? `${didYouMean(name, names).trim()} This library's options: ${names.join(", ")}`.trim()
      : "This library has no options; declare it under options or remove the condition",
  });
  if (t === "@test" || t === "!@test") return { condition: { kind: "test", negate: t.startsWith("!") } };
  const eq = /^([a-z0-9_]+)\s*=\s*(.*)$/.exec(t);
  if (eq) {
    const [, name, raw] = eq as unknown as [string, string, string];
    const spec = options.find((o) => o.name === name);
    if (!spec) return unknown(name);
    const parsed = parseValue(spec, raw);
    if ("problem" in parsed) {
      return { problem: `condition ${quote(text)}: ${parsed.problem}`, fix: `Compare "${name}" with ${accepted(spec)}` };
    }
    return { condition: { kind: "equals", option: name, value: parsed.value } };
  }
  const flag = /^(!?)([a-z0-9_]+)$/.exec(t);
  if (flag) {
    const [, bang, name] = flag as unknown as [string, string, string];
    const spec = options.find((o) => o.name === name);
    if (!spec) return unknown(name);
    if (spec.type !== "bool") {
      return {
        problem: `condition ${quote(text)} needs a bool option, but "${name}" is ${spec.type}`,
        fix: `Write "${name}=<value>" with ${accepted(spec)}`,
      };
    }
    return { condition: { kind: "bool", option: name, negate: bang === "!" } };
  }
  return {
    problem: `cannot parse condition ${quote(text)}`,
    fix: 'Write "opt" or "!opt" (bool option), "opt=value", or "@test"',
  };
}

/** Evaluates a parsed condition with the resolved option values. */
export function evaluate(cond: Condition, values: ReadonlyMap<string, OptionValue>, test: boolean): boolean {
  switch (cond.kind) {
    case "test":
      return cond.negate ? !test : test;
    case "bool":
      return values.get(cond.option) === !cond.negate;
    case "equals":
      return values.get(cond.option) === cond.value;
  }
}
