// Echoing what the user wrote inside a message: control and invisible characters escaped so
// they can be seen (a NUL byte, a bidi override), and long values cut so one bad value does not
// bury the message. Every error that repeats a value, key or name from the user goes through here.

/** How many characters of a value a message shows. */
export const ECHO_MAX = 60;

// C0/C1 controls and DEL, format characters (bidi overrides, zero-width), line/paragraph
// separators and lone surrogates: none of them reads as itself on a terminal.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const NAMED: Record<string, string> = { "\0": "\\0", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeChar(ch: string, quoted: boolean): string {
  if (quoted && (ch === '"' || ch === "\\")) return `\\${ch}`;
  if (!INVISIBLE.test(ch)) return ch;
  const named = NAMED[ch];
  if (named) return named;
  const cp = ch.codePointAt(0)!;
  return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, "0")}` : `\\u{${cp.toString(16)}}`;
}

function render(value: string, max: number, quoted: boolean): string {
  const chars = [...value];
  const cut = chars.length > max;
  let body = "";
  for (const ch of cut ? chars.slice(0, max) : chars) body += escapeChar(ch, quoted);
  const tail = cut ? "…" : "";
  const shown = quoted ? `"${body}${tail}"` : `${body}${tail}`;
  return cut ? `${shown} (${chars.length} characters)` : shown;
}

/** `"value"`, escaped and cut: `"\0abc"`, `"aaaa…" (5114 characters)`. */
export function quote(value: string, max = ECHO_MAX): string {
  return render(value, max, true);
}

/** The same escaping and cut without quotes, for keys and names set inside a phrase. */
export function visible(value: string, max = ECHO_MAX): string {
  return render(value, max, false);
}

/** A scalar as a message shows it: strings quoted (as above), numbers and booleans as they are. */
export function echo(value: string | number | boolean): string {
  return typeof value === "string" ? quote(value) : String(value);
}
