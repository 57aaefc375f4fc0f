export * from "./api/audit.ts";
export * from "./api/auth.ts";
export * from "./api/common.ts";
export * from "./api/directory.ts";
export * from "./api/search.ts";
export * from "./api/tickets.ts";
export * from "./phone.ts";
