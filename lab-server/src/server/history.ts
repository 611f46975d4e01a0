// The last bytes of a terminal, kept to redraw the screen when a tab reloads. One buffer
// of fixed size, written round and round: a terminal that floods keeps no object per read
// alive (a list of the reads, trimmed from the front, kept thousands of small buffers alive
// long enough to reach V8's old space, and the heap grew by tens of MB under `yes`).
export class History {
  private readonly ring: Buffer;
  /** Where the next byte goes. */
  private end = 0;
  private full = false;

  constructor(readonly capacity: number) {
    this.ring = Buffer.alloc(capacity);
  }

  push(data: Uint8Array): void {
    if (data.length >= this.capacity) {
      this.ring.set(data.subarray(data.length - this.capacity));
      this.end = 0;
      this.full = true;
      return;
    }
    const first = Math.min(data.length, this.capacity - this.end);
    this.ring.set(data.subarray(0, first), this.end);
    this.ring.set(data.subarray(first), 0);
    const end = this.end + data.length;
    if (end >= this.capacity) this.full = true;
    this.end = end % this.capacity;
  }

  /** Everything kept, oldest first, as a new buffer. */
  bytes(): Buffer {
    if (!this.full) return Buffer.from(this.ring.subarray(0, this.end));
    return Buffer.concat([this.ring.subarray(this.end), this.ring.subarray(0, this.end)]);
  }
}
