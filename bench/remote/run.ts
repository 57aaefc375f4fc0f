// `npm run bench:remote`: remote shells through the real server, gateway and agent PTY, with simulated
// agents connected around them. Two gateway processes by default (the NATS path needs two); see
// README.md. The settings are read when main.ts loads, so the default is set before it is imported.
process.env.BENCH_GATEWAYS ??= "2";
await import("./main.ts");
