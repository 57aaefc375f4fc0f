import {
  CreateVaultEntryRequest,
  IdParams,
  UpdateVaultEntryRequest,
  VaultEntryDto,
  VaultListQuery,
  VaultRevealDto,
  VaultRevealRequest,
  VaultRotateDto,
  VaultRotateRequest,
  VaultStepUpDto,
  VaultStepUpRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import {
  archiveVaultEntry,
  createVaultEntry,
  getVaultEntry,
  listVault,
  revealSecret,
  rotateVaultKeys,
  stepUp,
  updateVaultEntry,
} from "./service.ts";

const tags = ["vault"];

export async function vaultRoutes(app: App, deps: AppDeps) {
  const { db } = deps;
  app.get(
    "/api/v1/vault/entries",
    {
      config: signedIn,
      schema: { tags, querystring: VaultListQuery, response: { 200: z.array(VaultEntryDto) } },
    },
    async (req) => listVault(db, actorOf(req), req.query),
  );
  app.post(
    "/api/v1/vault/entries",
    { config: writers, schema: { tags, body: CreateVaultEntryRequest, response: { 201: VaultEntryDto } } },
    async (req, reply) => reply.code(201).send(await createVaultEntry(deps, actorOf(req), req.body)),
  );
  app.get(
    "/api/v1/vault/entries/:id",
    { config: signedIn, schema: { tags, params: IdParams, response: { 200: VaultEntryDto } } },
    async (req) => getVaultEntry(db, actorOf(req), req.params.id),
  );
  app.patch(
    "/api/v1/vault/entries/:id",
    {
      config: writers,
      schema: { tags, params: IdParams, body: UpdateVaultEntryRequest, response: { 200: VaultEntryDto } },
    },
    async (req) => updateVaultEntry(deps, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    "/api/v1/vault/entries/:id",
    { config: writers, schema: { tags, params: IdParams } },
    async (req, reply) => {
      await archiveVaultEntry(db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    "/api/v1/vault/step-up",
    {
      config: writers,
      schema: {
        tags,
        summary: "Re-enter your password to reveal secrets for a few minutes",
        body: VaultStepUpRequest,
        response: { 200: VaultStepUpDto },
      },
    },
    async (req) => stepUp(deps, actorOf(req), req.body.password, req.ip),
  );
  app.post(
    "/api/v1/vault/entries/:id/reveal",
    {
      config: writers,
      schema: {
        tags,
        summary: "Reveal (or copy) one secret for a ticket; audited; needs a step-up",
        params: IdParams,
        body: VaultRevealRequest,
        response: { 200: VaultRevealDto },
      },
    },
    async (req) => revealSecret(deps, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/vault/rotate",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary: "Re-wrap data keys with the current KEK; optionally new data keys and re-sealed entries",
        body: VaultRotateRequest,
        response: { 200: VaultRotateDto },
      },
    },
    async (req) => rotateVaultKeys(deps, actorOf(req), req.body),
  );
}
