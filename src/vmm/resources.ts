// Bookkeeping of every fd a VM opens and every mapping it makes, so teardown releases all of
// them (in reverse order: vCPU run page before vCPU fd before VM fd) and tests can assert it.
import type { Sys } from "./sys.ts";

export type Resource =
  | { kind: "fd"; label: string; fd: number }
  | { kind: "mapping"; label: string; addr: bigint; len: number };

export interface LedgerSummary {
  opened: number;
  released: number;
  /** Still held (empty after release()). */
  outstanding: Resource[];
  /** Close/munmap calls that failed during release, with errno. */
  failures: string[];
}

export class ResourceLedger {
  private readonly held: Resource[] = [];
  private openedCount = 0;
  private releasedCount = 0;
  private readonly failed: string[] = [];
  private readonly sys: Pick<Sys, "close" | "munmap" | "errno">;

  constructor(sys: Pick<Sys, "close" | "munmap" | "errno">) {
    this.sys = sys;
  }

  fd(label: string, fd: number): number {
    this.held.push({ kind: "fd", label, fd });
    this.openedCount++;
    return fd;
  }

  mapping(label: string, addr: bigint, len: number): bigint {
    this.held.push({ kind: "mapping", label, addr, len });
    this.openedCount++;
    return addr;
  }

  /** Releases one resource early (e.g. the /dev/kvm fd once the VM exists). */
  releaseOne(match: (r: Resource) => boolean): void {
    const i = this.held.findIndex(match);
    if (i < 0) return;
    const [r] = this.held.splice(i, 1);
    this.free(r!);
  }

  private free(r: Resource): void {
    const rc = r.kind === "fd" ? this.sys.close(r.fd) : this.sys.munmap(r.addr, r.len);
    this.releasedCount++;
    if (rc !== 0) this.failed.push(`${r.kind === "fd" ? "close" : "munmap"} ${r.label}: errno ${this.sys.errno()}`);
  }

  /**
   * Gives up on releasing one resource (another thread may still use it: unmapping would
   * crash the process). It stays reported, as a failure, so a leak test sees it.
   */
  keep(match: (r: Resource) => boolean, why: string): void {
    const i = this.held.findIndex(match);
    if (i < 0) return;
    const [r] = this.held.splice(i, 1);
    this.failed.push(`kept ${r!.label}: ${why}`);
  }

  /** Releases everything still held, newest first. Safe to call twice. */
  release(): void {
    while (this.held.length > 0) this.free(this.held.pop()!);
  }

  summary(): LedgerSummary {
    return { opened: this.openedCount, released: this.releasedCount, outstanding: [...this.held], failures: [...this.failed] };
  }
}
