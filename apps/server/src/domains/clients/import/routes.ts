import { ImportField, ImportQuery, ImportResult } from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../../app.ts";
import { actorOf } from "../../../http/auth.ts";
import { AppError, invalid } from "../../../http/errors.ts";
import { rolesOnly } from "../../../http/policy.ts";
import { importClientsAndContacts } from "./service.ts";

/** Largest CSV accepted; the file is streamed, never held whole in memory. */
export const IMPORT_MAX_BYTES = 200 * 1024 * 1024;

const Mapping = z.record(z.string().max(500), ImportField.nullable());

export async function importRoutes(app: App, deps: AppDeps) {
  app.post(
    "/api/v1/imports/clients-contacts",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags: ["clients"],
        summary:
          "Import clients, sites and contacts from a CSV export (ConnectWise, Autotask, HaloPSA or any)",
        description:
          "multipart/form-data with one file field. Columns are mapped automatically from their headers (`mapping` overrides). `dryRun=true` reports what would happen without writing. Rows are written in transactions of 500; a re-run creates nothing twice.",
        querystring: ImportQuery,
        consumes: ["multipart/form-data"],
        response: { 200: ImportResult },
      },
    },
    async (req) => {
      if (!req.isMultipart())
        throw new AppError("unsupported_media_type", 415, "Send the CSV as multipart/form-data");
      let mapping: Record<string, ImportField | null> | undefined;
      if (req.query.mapping) {
        let json: unknown;
        try {
          json = JSON.parse(req.query.mapping);
        } catch {
          throw invalid("query.mapping", "must be JSON");
        }
        const parsed = Mapping.safeParse(json);
        if (!parsed.success)
          throw invalid("query.mapping", "must map column headers to import fields or null");
        mapping = parsed.data;
      }
      const file = await req.file({ limits: { fileSize: IMPORT_MAX_BYTES, files: 1 } });
      if (!file) throw invalid("body.file", "is required");
      const result = await importClientsAndContacts(deps.db, actorOf(req), file.file, {
        dryRun: req.query.dryRun,
        mapping,
      });
      if (file.file.truncated) {
        throw new AppError(
          "payload_too_large",
          413,
          `The file is over ${IMPORT_MAX_BYTES / 1024 / 1024} MiB`,
        );
      }
      return result;
    },
  );
}
