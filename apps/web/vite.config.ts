import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The console is served by the Switchboard server from apps/web/dist; `vite` (dev) proxies the API to a
// server on :8080 so the session cookie stays same-origin.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    chunkSizeWarningLimit: 1200,
    // Two apps: the technician console (index.html) and the client portal (portal.html, served at
    // /portal). The portal's entry imports nothing of the console, so a contact's browser never loads it.
    rollupOptions: { input: { console: "index.html", portal: "portal.html" } },
  },
  server: {
    proxy: {
      "/api": { target: "http://localhost:8080", changeOrigin: false },
    },
  },
});
