import type { NatsConnection, Subscription } from "nats";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Streams of remote sessions between processes: the console's socket may be held by one process and the
 * agent's by another. Each subject has exactly one subscriber (the process holding that end), so a
 * subject subscribed here is delivered in memory, synchronously and in order; any other goes to NATS,
 * which keeps the order of one publisher's messages on a subject. Without NATS everything is in this
 * process.
 */
export class RemoteBus {
  private readonly local = new Map<string, (data: string) => void>();
  private readonly subs = new Map<string, Subscription>();
  private readonly nc: NatsConnection | null;

  constructor(nc: NatsConnection | null) {
    this.nc = nc;
  }

  get distributed() {
    return this.nc !== null;
  }

  subscribe(subject: string, handler: (data: string) => void): () => void {
    this.local.set(subject, handler);
    if (this.nc) {
      this.subs.get(subject)?.unsubscribe();
      this.subs.set(
        subject,
        this.nc.subscribe(subject, {
          callback: (err, msg) => {
            if (!err) handler(dec.decode(msg.data));
          },
        }),
      );
    }
    return () => {
      if (this.local.get(subject) !== handler) return;
      this.local.delete(subject);
      this.subs.get(subject)?.unsubscribe();
      this.subs.delete(subject);
    };
  }

  publish(subject: string, data: string) {
    const here = this.local.get(subject);
    if (here) here(data);
    else this.nc?.publish(subject, enc.encode(data));
  }

  /** Makes sure what was published reached the NATS server (before a process reports success). */
  async flush() {
    await this.nc?.flush();
  }
}

/** Frames for the process holding the console's end of a remote session. */
export const consoleSubject = (sessionId: string) => `switchboard.remote.${sessionId}.console`;
/** Frames for the gateway holding the agent; the device id keeps another agent from taking the stream. */
export const agentSubject = (sessionId: string, deviceId: string) =>
  `switchboard.remote.${sessionId}.${deviceId}.agent`;
