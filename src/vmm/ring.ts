// A single-producer single-consumer byte ring in a SharedArrayBuffer: the main thread writes
// console input, the vCPU worker (which cannot take messages while inside KVM_RUN) reads it.

const HEAD = 0; // next byte to read (written by the consumer)
const TAIL = 1; // next byte to write (written by the producer)
const HEADER_BYTES = 8;

export class ByteRing {
  readonly sab: SharedArrayBuffer;
  private readonly idx: Int32Array;
  private readonly data: Uint8Array;
  private readonly capacity: number;

  /** `capacity` must be a power of two; one slot stays empty to tell full from empty. */
  static create(capacity = 4096): ByteRing {
    if (capacity < 2 || (capacity & (capacity - 1)) !== 0) throw new Error(`ring capacity ${capacity} is not a power of two`);
    return new ByteRing(new SharedArrayBuffer(HEADER_BYTES + capacity));
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.idx = new Int32Array(sab, 0, 2);
    this.data = new Uint8Array(sab, HEADER_BYTES);
    this.capacity = this.data.length;
  }

  get available(): number {
    return (Atomics.load(this.idx, TAIL) - Atomics.load(this.idx, HEAD)) & (this.capacity - 1);
  }

  /** Producer: copies what fits, returns how many bytes were taken. */
  write(bytes: Uint8Array): number {
    const head = Atomics.load(this.idx, HEAD);
    let tail = Atomics.load(this.idx, TAIL);
    const free = this.capacity - 1 - ((tail - head) & (this.capacity - 1));
    const n = Math.min(free, bytes.length);
    for (let i = 0; i < n; i++) {
      this.data[tail] = bytes[i]!;
      tail = (tail + 1) & (this.capacity - 1);
    }
    Atomics.store(this.idx, TAIL, tail); // publish after the bytes are in place
    return n;
  }

  /** Consumer: takes up to `max` bytes. */
  read(max: number): Uint8Array {
    let head = Atomics.load(this.idx, HEAD);
    const tail = Atomics.load(this.idx, TAIL);
    const n = Math.min(max, (tail - head) & (this.capacity - 1));
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = this.data[head]!;
      head = (head + 1) & (this.capacity - 1);
    }
    Atomics.store(this.idx, HEAD, head);
    return out;
  }
}
