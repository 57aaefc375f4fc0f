import {
  ContactDto,
  ContactListQuery,
  CreateContactRequest,
  IdParams,
  MergeContactsRequest,
  MergeContactsResult,
  Page,
  UpdateContactRequest,
} from "@switchboard/shared";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { mergeContacts } from "./contacts-merge.ts";
import { createContact, getContact, listContacts, updateContact } from "./contacts-service.ts";
import { toContactDto } from "./dto.ts";
import { importRoutes } from "./import/routes.ts";

export async function contactRoutes(app: App, deps: AppDeps) {
  const tags = ["contacts"];
  await importRoutes(app, deps);
  app.get(
    "/api/v1/contacts",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Find contacts by name, email or phone number in any format (keyset pages by name)",
        description:
          'Phone intake: "(555) 201-3344", "555.201.3344" and "+1 555 201 3344" all find the contact whose number has those digits.',
        querystring: ContactListQuery,
        response: { 200: Page(ContactDto) },
      },
    },
    async (req) => {
      const page = await listContacts(deps.db, actorOf(req), req.query);
      return { items: page.items.map(toContactDto), nextCursor: page.nextCursor };
    },
  );

  app.post(
    "/api/v1/contacts",
    {
      config: writers,
      schema: {
        tags,
        summary: "Create a contact",
        body: CreateContactRequest,
        response: { 201: ContactDto },
      },
    },
    async (req, reply) =>
      reply.code(201).send(toContactDto(await createContact(deps.db, actorOf(req), req.body))),
  );

  app.get(
    "/api/v1/contacts/:id",
    {
      config: signedIn,
      schema: { tags, summary: "One contact", params: IdParams, response: { 200: ContactDto } },
    },
    async (req) => toContactDto(await getContact(deps.db, actorOf(req), req.params.id)),
  );

  app.patch(
    "/api/v1/contacts/:id",
    {
      config: writers,
      schema: {
        tags,
        summary: "Change a contact",
        description:
          "Send the `version` you read: a stale one gets 412 `version_conflict` with the current contact.",
        params: IdParams,
        body: UpdateContactRequest,
        response: { 200: ContactDto },
      },
    },
    async (req) => toContactDto(await updateContact(deps.db, actorOf(req), req.params.id, req.body)),
  );

  app.post(
    "/api/v1/contacts/:id/merge",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Merge duplicate contacts into this one",
        description:
          "Tickets, timeline authorship and emails of the duplicates move to this contact, which also takes their addresses and numbers; each duplicate becomes an inactive pointer (`mergedIntoId`).",
        params: IdParams,
        body: MergeContactsRequest,
        response: { 200: MergeContactsResult },
      },
    },
    async (req) => mergeContacts(deps.db, actorOf(req), req.params.id, req.body),
  );
}
