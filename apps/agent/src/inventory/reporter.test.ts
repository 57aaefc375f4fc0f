import type { Inventory } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { inventoryHash } from "./index.ts";
import { InventoryReporter } from "./reporter.ts";

const base: Inventory = {
  hostname: "frontdesk-01",
  os: { platform: "linux", name: "Debian GNU/Linux", version: "12", arch: "x64" },
  hardware: {},
  cpu: { model: "cpu", cores: 4, speedMhz: 2000 },
  memory: { totalBytes: 8e9, freeBytes: 4e9 },
  disks: [],
  network: [],
  users: ["anna"],
  uptimeSeconds: 100,
  software: [{ name: "openssl", version: "3.0.14" }],
  updates: { source: "apt", count: 1, items: [{ name: "openssl", version: "3.0.15" }] },
};

describe("inventory reporting", () => {
  it("sends the whole inventory first, then only changed sections, then nothing", async () => {
    let current = base;
    const r = new InventoryReporter(async () => current);
    const first = await r.next(null);
    expect(first).toMatchObject({ full: true, hash: inventoryHash(base), inventory: base });

    current = {
      ...base,
      uptimeSeconds: 200,
      software: [{ name: "openssl", version: "3.0.15" }],
      updates: null,
    };
    const second = await r.next(first!.hash);
    expect(second).toEqual({
      type: "inventory",
      full: false,
      hash: inventoryHash(current),
      baseHash: first!.hash,
      changes: { uptimeSeconds: 200, software: current.software, updates: null },
    });
    expect(await r.next(second!.hash)).toBeNull();
    // The server holds something else (restored, or lost a delta): the whole again.
    expect(await r.next("other")).toMatchObject({ full: true, inventory: current });
    expect(await r.next(second!.hash, true)).toMatchObject({ full: true });
  });
});
