/**
 * Collects calls for a moment and answers them with one database statement: during a reconnect storm a
 * handshake costs a share of a batch instead of its own round trips. One batch runs at a time; calls
 * arriving meanwhile form the next one.
 */
const SLICE = 50;

export class Batcher<I, O> {
  private pending: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private readonly run: (items: I[]) => Promise<O[]>;
  private readonly maxSize: number;
  private readonly waitMs: number;

  constructor(run: (items: I[]) => Promise<O[]>, opts: { maxSize?: number; waitMs?: number } = {}) {
    this.run = run;
    this.maxSize = opts.maxSize ?? 500;
    this.waitMs = opts.waitMs ?? 5;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length >= this.maxSize) this.kick();
      else this.timer ??= setTimeout(() => this.kick(), this.waitMs);
    });
  }

  /**
   * Hands results back a slice at a time with a turn of the event loop in between: each continuation
   * verifies a signature and answers its agent, and 500 of them in one go would keep new connections
   * waiting in the accept queue.
   */
  private settle(batch: Array<{ resolve: (o: O) => void }>, out: O[], from: number) {
    const to = Math.min(batch.length, from + SLICE);
    for (let i = from; i < to; i++) batch[i]!.resolve(out[i] as O);
    if (to < batch.length) setImmediate(() => this.settle(batch, out, to));
  }

  private kick() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running || !this.pending.length) return;
    const batch = this.pending.splice(0, this.maxSize);
    this.running = true;
    this.run(batch.map((b) => b.item))
      .then(
        (out) => this.settle(batch, out, 0),
        (err) => {
          for (const b of batch) b.reject(err);
        },
      )
      .finally(() => {
        this.running = false;
        if (this.pending.length) this.kick();
      });
  }
}
