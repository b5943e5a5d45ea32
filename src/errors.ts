// Errors meant for the user: printed without a stack trace, with what to do about them.
import { visible } from "./quote.ts";

export class KilnError extends Error {
  /** Process exit status when this error ends a CLI command. */
  readonly exitStatus: number;
  constructor(message: string, exitStatus = 1) {
    super(message);
    this.name = "KilnError";
    this.exitStatus = exitStatus;
  }
}

/**
 * A configuration error: names the file, the key inside it, the problem and the fix.
 * Rendered as `<file>: <key>: <problem>. <fix>`; the file and the key (the user's own text, for
 * --set) are escaped and cut like every echoed value.
 */
export class KilnConfigError extends KilnError {
  readonly file: string;
  readonly key: string;
  readonly problem: string;
  readonly fix: string;
  constructor(file: string, key: string, problem: string, fix: string) {
    super(`${visible(file, 200)}: ${visible(key)}: ${problem}. ${fix}`);
    this.name = "KilnConfigError";
    this.file = file;
    this.key = key;
    this.problem = problem;
    this.fix = fix;
  }
}
