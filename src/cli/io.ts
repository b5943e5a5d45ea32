// Where a CLI command reads and writes: this process's own streams, or (under `kiln serve`) a
// client's, relayed over its socket. Commands take it instead of touching process.std* so that
// one helper process can serve several runs at once.
import { wantsColor } from "../color.ts";

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Colour on the error stream (the client's terminal, under the helper). */
  errColor: boolean;
  /** Relative paths are relative to this. */
  cwd: string;
  /** Standard input is a terminal (an interactive run). */
  stdinTTY: boolean;
  /** Set under the helper: the client went away or asked to stop; the run stops its guest. */
  stop?: AbortSignal;
  /** Set under the helper: a command it does not serve throws NotServed before any output. */
  served?: boolean;
  /** Set under the helper: the client's standard input (relayed when it is a terminal). */
  stdin?: NodeJS.ReadableStream;
  /** Set under the helper: called once the run is known to be served (the client then relays input). */
  accepted?: () => void;
  /** Set under the helper: told the memory of a VM about to boot, so it keeps shells of that size. */
  prepare?: (memory: number) => void;
  /** The command's exit status, once it has one. */
  status?: number;
}

/** Thrown under the helper for a request the plain CLI must run (the client then runs it so). */
export class NotServed extends Error {}

export function processIo(): CliIo {
  return {
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    errColor: wantsColor(process.stderr),
    cwd: process.cwd(),
    stdinTTY: process.stdin.isTTY === true,
  };
}
