// Colour only for a terminal. picocolors on its own also colours whenever $CI is set, which
// put escape codes into piped output and logs (and broke a test that read stderr under CI).
import picocolors from "picocolors";

type Colors = ReturnType<typeof picocolors.createColors>;

/** Whether to colour what goes to `stream`: FORCE_COLOR and NO_COLOR win, else a real terminal. */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  return stream.isTTY === true && env.TERM !== "dumb";
}

export const colorsFor = (stream: { isTTY?: boolean }): Colors =>
  picocolors.createColors(wantsColor(stream));

/** Colours for standard output and standard error, decided once per process. */
export const outColors = colorsFor(process.stdout);
export const errColors = colorsFor(process.stderr);
