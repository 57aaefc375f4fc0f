#!/usr/bin/env node
// The `switchboard` command. Kept to a bootstrap: the compile cache must be on before the rest of the
// server's modules load, and it roughly halves a warm start (TypeScript stripping and V8 compilation
// are cached on disk; NODE_COMPILE_CACHE moves it, NODE_DISABLE_COMPILE_CACHE=1 turns it off).
import module from "node:module";

module.enableCompileCache?.();
await import("./cli/program.ts");
