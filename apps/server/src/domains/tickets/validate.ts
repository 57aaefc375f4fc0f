import { AppError, invalid } from "../../http/errors.ts";
import type { RefCheck, RefRow } from "./queries.ts";

/**
 * Checks that every id a ticket write names exists and belongs to the ticket's client. `prefix` is the
 * body path the errors name ("body" for a create or update). A record of another client and a record
 * that does not exist get the same answer: the message must not tell a client-limited user that an id
 * exists elsewhere.
 */
export function checkRefs(r: RefCheck, refs: RefRow, clientId: string, prefix = "body") {
  if (r.siteId && refs.site_client !== clientId) {
    throw invalid(`${prefix}.siteId`, "is not a site of this client");
  }
  if (r.contactId && refs.contact_client !== clientId) {
    throw invalid(`${prefix}.contactId`, "is not a contact of this client");
  }
  if (r.teamId && refs.team_name === null) throw invalid(`${prefix}.teamId`, "no such team");
  if (r.assigneeId) {
    if (refs.assignee_name === null) throw invalid(`${prefix}.assigneeId`, "no such user");
    if (!refs.assignee_active) throw invalid(`${prefix}.assigneeId`, "user is deactivated");
    if (!refs.assignee_all_clients && !refs.assignee_client_ok) {
      throw invalid(`${prefix}.assigneeId`, "user may not work on this client's tickets");
    }
  }
  if (r.parentId) {
    if (refs.parent_client !== clientId)
      throw invalid(`${prefix}.parentId`, "is not a ticket of this client");
  }
  if (r.statusId && refs.status_category === null) throw invalid(`${prefix}.statusId`, "no such status");
}

export const conflict = (message: string, details?: unknown) =>
  new AppError("invalid_transition", 409, message, details);
