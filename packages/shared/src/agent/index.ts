export * from "./api.ts";
export * from "./checks.ts";
export * from "./commands.ts";
export * from "./inventory.ts";
export * from "./protocol.ts";
export * from "./remote.ts";
export * from "./support.ts";
