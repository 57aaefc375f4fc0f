import { generateKeyPairSync } from "node:crypto";
import type { Database } from "../../apps/server/src/db/database.ts";
import { newSecret, sha256 } from "../../apps/server/src/domains/auth/crypto.ts";
import type { Spec } from "./fleet-control.ts";
import { AGENTS, GATEWAYS } from "./options.ts";

/**
 * Inserts AGENTS devices with an Ed25519 key pair each (as enrollment would) and an admin's API token.
 * Agent i connects to gateway i mod GATEWAYS, so every step, the silenced agents and the commands'
 * targets are spread over all gateway processes.
 */
export async function makeDevices(db: Database) {
  const client = await db
    .insertInto("clients")
    .values({ name: "Bench fleet" })
    .returning("id")
    .executeTakeFirstOrThrow();
  const user = await db
    .insertInto("users")
    .values({ email: "bench@example.test", name: "Bench", role: "admin" })
    .returning("id")
    .executeTakeFirstOrThrow();
  const token = newSecret("sb_");
  await db
    .insertInto("api_tokens")
    .values({ user_id: user.id, name: "bench", token_hash: sha256(token), prefix: token.slice(0, 10) })
    .execute();
  const specs: Spec[] = [];
  for (let i = 0; i < AGENTS; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, AGENTS - i) }, () => generateKeyPairSync("ed25519"));
    const rows = await db
      .insertInto("devices")
      .values(
        batch.map((k, j) => ({
          client_id: client.id,
          hostname: `sim-${i + j}`,
          platform: "linux",
          arch: "x64",
          os_name: "Linux",
          os_version: "sim",
          agent_version: "sim",
          public_key: k.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
        })),
      )
      .returning("id")
      .execute();
    for (const [j, r] of rows.entries()) {
      specs.push({
        deviceId: r.id,
        keyPem: batch[j]!.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
        gateway: (i + j) % GATEWAYS,
      });
    }
  }
  return { specs, token };
}
