// The technician's side in the benchmark: a console socket on a shell, acknowledging output at once
// (a fast terminal), with helpers to time keystroke echoes and a large cat.
import WebSocket from "ws";

export class Shell {
  readonly ws: WebSocket;
  private waiters: Array<{ test: (text: string) => boolean; resolve: () => void }> = [];
  private buffer = "";
  received = 0;
  opened: Promise<void>;

  private constructor(url: string, token: string) {
    this.ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    this.ws.on("error", () => {});
    this.opened = new Promise((resolve, reject) => {
      this.ws.on("unexpected-response", (_q, res) => reject(new Error(`socket: http ${res.statusCode}`)));
      this.ws.on("close", (code, reason) => reject(new Error(`closed ${code} ${reason}`)));
      this.ws.on("message", (data) => {
        const f = JSON.parse(data.toString()) as { t: string; d?: string; status?: string; reason?: string };
        if (f.t === "state" && f.status === "open") resolve();
        if (f.t === "closed") reject(new Error(`shell closed: ${f.reason}`));
        if (f.t !== "out" || !f.d) return;
        this.received += f.d.length;
        this.ws.send(JSON.stringify({ t: "ack", n: f.d.length }));
        // Only the tail matters for what we wait for.
        this.buffer = (this.buffer + f.d).slice(-256);
        for (const w of [...this.waiters]) {
          if (w.test(this.buffer)) {
            this.waiters.splice(this.waiters.indexOf(w), 1);
            w.resolve();
          }
        }
      });
    });
  }

  static async open(base: string, token: string, deviceId: string) {
    const res = await fetch(`${base}/api/v1/devices/${deviceId}/shells`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ cols: 120, rows: 40 }),
    });
    if (res.status !== 201) throw new Error(`shell: ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    const s = new Shell(`${base.replace(/^http/, "ws")}/api/v1/remote/shells/${id}/socket`, token);
    await s.opened;
    return s;
  }

  type(d: string) {
    this.ws.send(JSON.stringify({ t: "in", d }));
  }

  /** Resolves when the recent output satisfies `test` (checked on what arrives from now on). */
  until(test: (tail: string) => boolean, ms = 120_000) {
    this.buffer = "";
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("timed out waiting for output")), ms);
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
      });
    });
  }

  /** Keystroke echo round trips: one character, then its echo; the line is cleared every 40. */
  async echoes(n: number): Promise<number[]> {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const ch = String.fromCharCode(97 + (i % 26));
      const t0 = performance.now();
      const seen = this.until((tail) => tail.endsWith(ch));
      this.type(ch);
      await seen;
      out.push(performance.now() - t0);
      if (i % 40 === 39) {
        this.type("\u0015");
        await new Promise((r) => setTimeout(r, 30));
      }
    }
    this.type("\u0015");
    return out;
  }

  close() {
    this.ws.close();
  }
}
