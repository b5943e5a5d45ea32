// Turns the raw serial byte stream into what a person reads: CRLF to LF, the `kiln: exit` line
// hidden (it is protocol, see exit-status.ts), stack-trace lines given symbols.

/**
 * Names an address. A return address (every `bt` frame after #0, which is the exact faulting
 * pc) points after its call, which may be past the end of a function that ends in a noreturn
 * call, so it is looked up one byte back.
 */
export type Symbolizer = (addr: bigint, isReturnAddress: boolean) => string | undefined;

export interface ConsoleFilterOptions {
  /** Show protocol lines (`kiln: exit N`) too. */
  verbose?: boolean;
  symbolize?: Symbolizer;
}

const BT_LINE = /^kiln: bt #(\d+) 0x([0-9a-fA-F]+)\s*$/;
const EXIT_LINE = /^kiln: exit \d+$/;

export class ConsoleFilter {
  private pending = "";
  private readonly opts: ConsoleFilterOptions;
  /** Everything the guest printed, with CR removed, unfiltered (for parsing). */
  raw = "";

  constructor(opts: ConsoleFilterOptions = {}) {
    this.opts = opts;
  }

  /** Feeds a chunk; returns the text to show now (complete lines only, plus nothing partial). */
  push(chunk: string): string {
    const text = chunk.replace(/\r/g, "");
    this.raw += text;
    this.pending += text;
    const nl = this.pending.lastIndexOf("\n");
    if (nl < 0) {
      // A prompt without a newline (interactive apps) must still show: pass partial text through
      // unless it could be the start of a protocol line.
      if (this.pending.length > 0 && !"kiln: ".startsWith(this.pending.slice(0, 6)) ) {
        const out = this.pending;
        this.pending = "";
        return out;
      }
      return "";
    }
    const complete = this.pending.slice(0, nl + 1);
    this.pending = this.pending.slice(nl + 1);
    return complete
      .split("\n")
      .slice(0, -1)
      .map((line) => this.line(line))
      .filter((l): l is string => l !== undefined)
      .map((l) => l + "\n")
      .join("");
  }

  /** Flushes a trailing partial line at the end of the run. */
  end(): string {
    const rest = this.pending;
    this.pending = "";
    if (!rest) return "";
    const shown = this.line(rest);
    return shown === undefined ? "" : shown;
  }

  private line(line: string): string | undefined {
    if (!this.opts.verbose && EXIT_LINE.test(line)) return undefined;
    const bt = BT_LINE.exec(line);
    if (bt && this.opts.symbolize) {
      const sym = this.opts.symbolize(BigInt("0x" + bt[2]), bt[1] !== "0");
      if (sym) return `${line} ${sym}`;
    }
    return line;
  }
}
