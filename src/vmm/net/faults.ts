// Seeded fault injection between virtio-net and its backend, in both directions: loss,
// reordering (a frame held back until the next one has passed), duplication and corruption
// (one byte flipped). This kernel has no `tc netem`, and the stack's reliability targets need a
// lossy link. Each direction has its own generator, so the fate of the nth frame each way
// depends only on the seed and the frames before it: a run is replayable. Configured with
// KILN_NET_FAULTS=loss=0.05,reorder=0.02,dup=0.01,corrupt=0,seed=7 or VmOptions.net.faults.
import { KilnError } from "../../errors.ts";
import type { DeviceState } from "../devices/virtio/device.ts";
import type { NetBackend } from "../devices/virtio/net.ts";

export interface NetFaults {
  /** Probabilities per frame, 0..1. */
  loss: number;
  reorder: number;
  dup: number;
  corrupt: number;
  seed: number;
}

export interface FaultCounts {
  lost: number;
  reordered: number;
  duplicated: number;
  corrupted: number;
}

const RATES = ["loss", "reorder", "dup", "corrupt"] as const;

/** mulberry32: small, fast and reproducible; the state is one 32-bit word. */
export function mulberry32(seed: number): { next: () => number; state: () => number } {
  let a = seed >>> 0;
  return {
    next: () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    },
    state: () => a,
  };
}

/** Parses `loss=0.05,reorder=0.02,dup=0.01,corrupt=0,seed=7` (any subset; the rest 0, seed 1). */
export function parseNetFaults(text: string, what = "KILN_NET_FAULTS"): NetFaults {
  const f: NetFaults = { loss: 0, reorder: 0, dup: 0, corrupt: 0, seed: 1 };
  for (const part of text.split(",").map((p) => p.trim()).filter((p) => p !== "")) {
    const m = /^(\w+)=(.*)$/.exec(part);
    const key = m?.[1] ?? part;
    const value = Number(m?.[2]);
    if (key === "seed") {
      if (!m || !Number.isSafeInteger(value) || value < 0) throw new KilnError(`${what}: seed ${JSON.stringify(m?.[2] ?? "")} is not a whole number >= 0. Example: ${what}=loss=0.05,seed=7`);
      f.seed = value;
    } else if ((RATES as readonly string[]).includes(key)) {
      if (!m || m[2] === "" || !(value >= 0 && value <= 1)) throw new KilnError(`${what}: ${key}=${m?.[2] ?? ""} is not a probability in 0..1. Example: ${what}=loss=0.05,seed=7`);
      f[key as (typeof RATES)[number]] = value;
    } else {
      throw new KilnError(`${what}: unknown setting ${JSON.stringify(key)}. Use loss, reorder, dup, corrupt (0..1) and seed.`);
    }
  }
  return f;
}

/** The faults $KILN_NET_FAULTS asks for, or undefined (unset or all rates 0). */
export function envNetFaults(env: string | undefined = process.env.KILN_NET_FAULTS): NetFaults | undefined {
  if (!env) return undefined;
  const f = parseNetFaults(env);
  return RATES.some((k) => f[k] > 0) ? f : undefined;
}

/** One direction: a generator, the frame held back for reordering, and what happened. */
export class FaultLane {
  readonly counts: FaultCounts = { lost: 0, reordered: 0, duplicated: 0, corrupted: 0 };
  private rng: ReturnType<typeof mulberry32>;
  private held: Uint8Array | null = null;
  private readonly f: NetFaults;

  constructor(f: NetFaults, salt: number) {
    this.f = f;
    this.rng = mulberry32(Math.imul(f.seed ^ salt, 0x9e3779b1));
  }

  /** The frames to pass on now, in order, for one frame in. */
  apply(frame: Uint8Array): Uint8Array[] {
    const r = this.rng.next;
    if (r() < this.f.loss) {
      this.counts.lost++;
      return [];
    }
    let f = frame;
    if (r() < this.f.corrupt) {
      f = frame.slice();
      const at = Math.floor(r() * f.length);
      f[at]! ^= 1 + Math.floor(r() * 255);
      this.counts.corrupted++;
    }
    const out = r() < this.f.dup ? (this.counts.duplicated++, [f, f.slice()]) : [f];
    if (this.held) {
      out.push(this.held); // the held frame comes after this one: reordered
      this.held = null;
      return out;
    }
    if (out.length === 1 && r() < this.f.reorder) {
      this.held = f;
      this.counts.reordered++;
      return [];
    }
    return out;
  }

  /** The frame held back, if any, released (traffic stopped: it must not wait forever). */
  release(): Uint8Array | null {
    const h = this.held;
    this.held = null;
    return h;
  }

  get holding(): boolean {
    return this.held !== null;
  }

  save(prefix: string, s: DeviceState): void {
    s[`${prefix}rng`] = this.rng.state();
    if (this.held) s[`${prefix}held`] = this.held;
    for (const [k, v] of Object.entries(this.counts)) s[`${prefix}${k}`] = v;
  }

  load(prefix: string, s: DeviceState): void {
    const st = s[`${prefix}rng`];
    if (typeof st === "number") this.rng = mulberry32(st);
    const h = s[`${prefix}held`];
    this.held = h instanceof Uint8Array ? h : null;
    for (const k of Object.keys(this.counts) as Array<keyof FaultCounts>) {
      const v = s[`${prefix}${k}`];
      if (typeof v === "number") this.counts[k] = v;
    }
  }
}

/** A backend with faults injected both ways (rx: backend to guest, tx: guest to backend). */
export class FaultyBackend implements NetBackend {
  readonly rx: FaultLane;
  readonly tx: FaultLane;
  private readonly inner: NetBackend;
  private readonly ready: Uint8Array[] = [];

  constructor(inner: NetBackend, faults: NetFaults) {
    this.inner = inner;
    this.rx = new FaultLane(faults, 0x5258);
    this.tx = new FaultLane(faults, 0x5458);
  }

  send(frame: Uint8Array): void {
    for (const f of this.tx.apply(frame)) this.inner.send(f);
  }

  receive(): Uint8Array | null {
    while (this.ready.length === 0) {
      const f = this.inner.receive();
      if (!f) return null;
      this.ready.push(...this.rx.apply(f));
    }
    return this.ready.shift()!;
  }

  /** A reordered frame is being held in either direction (the caller should call flush soon). */
  get holding(): boolean {
    return this.rx.holding || this.tx.holding;
  }

  /** Releases held frames: TX ones are sent, RX ones become receivable. */
  flush(): void {
    const t = this.tx.release();
    if (t) this.inner.send(t);
    const r = this.rx.release();
    if (r) this.ready.push(r);
  }

  get pendingRx(): number {
    return this.ready.length;
  }

  saveState(): DeviceState {
    const s: DeviceState = {};
    this.rx.save("rx.", s);
    this.tx.save("tx.", s);
    this.ready.forEach((f, i) => (s[`ready.${i}`] = f));
    return s;
  }

  loadState(s: DeviceState): void {
    this.rx.load("rx.", s);
    this.tx.load("tx.", s);
    this.ready.length = 0;
    for (let i = 0; s[`ready.${i}`] instanceof Uint8Array; i++) this.ready.push(s[`ready.${i}`] as Uint8Array);
  }
}
