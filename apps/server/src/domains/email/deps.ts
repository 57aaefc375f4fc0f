import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import type { Boss } from "../../lib/jobs.ts";

export interface EmailLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the email channel needs: unlike the HTTP app it cannot run without a job queue. */
export interface EmailDeps {
  db: Database;
  blobs: BlobStore;
  boss: Boss;
  config: Config;
  log?: EmailLogger;
}
