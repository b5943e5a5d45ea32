// VMM errors meant for the user, each with a code tests (and callers) can match on.
import { KilnError } from "../errors.ts";

export type ImageErrorCode =
  | "unreadable"
  | "not-elf"
  | "not-elf64"
  | "not-little-endian"
  | "not-x86_64"
  | "not-exec"
  | "truncated"
  | "absurd-count"
  | "bad-segment"
  | "segment-overlap"
  | "reserved-overlap"
  | "beyond-memory"
  | "bad-note"
  | "no-pvh-note"
  | "entry-outside";

/** The image cannot be booted: names the file, what is wrong and what to do. */
export class VmImageError extends KilnError {
  readonly code: ImageErrorCode;
  constructor(file: string, code: ImageErrorCode, problem: string, fix: string) {
    super(`${file}: ${problem}. ${fix}`);
    this.name = "VmImageError";
    this.code = code;
  }
}

/** A bad VM option (memory size, command line, console). */
export class VmConfigError extends KilnError {
  readonly key: string;
  constructor(key: string, problem: string, fix: string) {
    super(`vm option ${key}: ${problem}. ${fix}`);
    this.name = "VmConfigError";
    this.key = key;
  }
}

/** A KVM call failed: names the call and the errno. */
export class KvmError extends KilnError {
  readonly call: string;
  readonly errno: number;
  constructor(call: string, errno: number, detail: string) {
    super(`KVM: ${call} failed: ${detail}`);
    this.name = "KvmError";
    this.call = call;
    this.errno = errno;
  }
}
