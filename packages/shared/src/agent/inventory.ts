import { z } from "zod";

const str = (max = 300) => z.string().max(max);
const bytes = z.number().int().min(0);

export const InventoryOs = z.object({
  platform: z.enum(["linux", "win32", "darwin", "other"]),
  name: str(),
  version: str(),
  kernel: str().optional(),
  arch: str(50),
});
export const InventoryHardware = z.object({
  manufacturer: str().optional(),
  model: str().optional(),
  serial: str().optional(),
});
export const InventoryCpu = z.object({
  model: str(),
  cores: z.number().int().min(0),
  speedMhz: z.number().min(0),
});
export const InventoryMemory = z.object({ totalBytes: bytes, freeBytes: bytes });
export const InventoryDisk = z.object({
  mount: str(500),
  fs: str(50).optional(),
  totalBytes: bytes,
  freeBytes: bytes,
});
export const InventoryNic = z.object({
  name: str(200),
  mac: str(50),
  addresses: z
    .array(z.object({ address: str(100), family: z.enum(["IPv4", "IPv6"]), cidr: str(100).nullable() }))
    .max(64),
});
export const InventorySoftware = z.object({ name: str(), version: str(200), publisher: str().optional() });
export const InventoryUpdates = z.object({
  source: z.enum(["apt", "dnf", "softwareupdate", "windows_update"]),
  count: z.number().int().min(0),
  items: z.array(z.object({ name: str(), version: str(200).optional() })).max(2000),
});

/** One machine's inventory. Every section is replaced whole when it changes. */
export const Inventory = z.object({
  hostname: str(255),
  os: InventoryOs,
  hardware: InventoryHardware,
  cpu: InventoryCpu,
  memory: InventoryMemory,
  disks: z.array(InventoryDisk).max(256),
  network: z.array(InventoryNic).max(128),
  users: z.array(str(200)).max(200),
  uptimeSeconds: z.number().min(0),
  software: z.array(InventorySoftware).max(20_000),
  /** null where the OS does not say (no apt/dnf, no permission). */
  updates: InventoryUpdates.nullable(),
});
export type Inventory = z.infer<typeof Inventory>;
export type InventorySection = keyof Inventory;
export const INVENTORY_SECTIONS = Object.keys(Inventory.shape) as InventorySection[];
