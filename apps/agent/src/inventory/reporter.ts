import type { Inventory } from "@switchboard/shared";
import { inventoryChanges, inventoryHash } from "./index.ts";

export type InventoryFrame =
  | { type: "inventory"; full: true; hash: string; inventory: Inventory }
  | { type: "inventory"; full: false; hash: string; baseHash: string; changes: Partial<Inventory> };

/**
 * Decides what to send: the whole inventory on first contact or when the server holds something else,
 * only the changed sections when the server holds what was sent last, nothing when nothing changed.
 */
export class InventoryReporter {
  private lastSent: { inv: Inventory; hash: string } | null = null;
  private readonly collect: () => Promise<Inventory>;

  constructor(collect: () => Promise<Inventory>) {
    this.collect = collect;
  }

  get lastHash() {
    return this.lastSent?.hash ?? null;
  }

  async next(serverHash: string | null, forceFull = false): Promise<InventoryFrame | null> {
    const inv = await this.collect();
    const hash = inventoryHash(inv);
    const base = this.lastSent;
    this.lastSent = { inv, hash };
    if (!forceFull && serverHash === hash) return null;
    if (!forceFull && base && serverHash === base.hash) {
      return {
        type: "inventory",
        full: false,
        hash,
        baseHash: base.hash,
        changes: inventoryChanges(base.inv, inv),
      };
    }
    return { type: "inventory", full: true, hash, inventory: inv };
  }
}
