import pg from "pg";
import { cpuSeconds } from "../lib/proc.ts";

/**
 * CPU of the PostgreSQL backends serving one database (the servers' connections, not the bench's own,
 * which connect as application_name `sb-bench`), read from /proc: sampled every 2 s so backends that
 * come and go are counted while they live. The server's shared helpers (WAL writer, checkpointer,
 * background writer) are summed apart: other databases on this server use them too.
 */
export class PgCpu {
  private readonly client: pg.Client;
  private readonly last = new Map<number, number>();
  private total = 0;
  private timer: NodeJS.Timeout | null = null;
  private aux: number[] = [];

  private constructor(client: pg.Client) {
    this.client = client;
  }

  static async start(url: string, database: string) {
    const c = new pg.Client({ connectionString: url, application_name: "sb-bench" });
    await c.connect();
    const p = new PgCpu(c);
    const { rows } = await c.query<{ pid: number }>(
      "select pid from pg_stat_activity where backend_type in ('walwriter', 'checkpointer', 'background writer')",
    );
    p.aux = rows.map((r) => r.pid);
    await p.sample(database);
    p.timer = setInterval(() => void p.sample(database).catch(() => {}), 2000);
    return p;
  }

  private async sample(database: string) {
    const { rows } = await this.client.query<{ pid: number }>(
      "select pid from pg_stat_activity where datname = $1 and coalesce(application_name, '') <> 'sb-bench'",
      [database],
    );
    for (const { pid } of rows) {
      let now: number;
      try {
        now = cpuSeconds(pid);
      } catch {
        continue;
      }
      const before = this.last.get(pid);
      // A backend first seen counts from its start: it connected since the previous sample.
      this.total += before === undefined ? now : now - before;
      this.last.set(pid, now);
    }
  }

  /** CPU seconds of the database's backends so far (since each started), and of the shared helpers. */
  async read(database: string) {
    await this.sample(database);
    let aux = 0;
    for (const pid of this.aux) {
      try {
        aux += cpuSeconds(pid);
      } catch {}
    }
    return { backends: this.total, sharedHelpers: aux };
  }

  async stop() {
    if (this.timer) clearInterval(this.timer);
    await this.client.end();
  }
}
