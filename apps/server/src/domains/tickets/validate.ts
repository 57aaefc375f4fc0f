import { AppError, invalid } from "../../http/errors.ts";
import type { RefCheck, RefRow } from "./queries.ts";

/**
 * Checks that every id a ticket write names exists and belongs to the ticket's client. `prefix` is the
 * body path the errors name ("body" for a create or update).
 */
export function checkRefs(r: RefCheck, refs: RefRow, clientId: string, prefix = "body") {
  if (r.siteId && refs.site_client !== clientId) {
    throw invalid(`${prefix}.siteId`, refs.site_client ? "belongs to another client" : "no such site");
  }
  if (r.contactId && refs.contact_client !== clientId) {
    throw invalid(
      `${prefix}.contactId`,
      refs.contact_client ? "belongs to another client" : "no such contact",
    );
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
    if (refs.parent_client === null) throw invalid(`${prefix}.parentId`, "no such ticket");
    if (refs.parent_client !== clientId) throw invalid(`${prefix}.parentId`, "belongs to another client");
  }
  if (r.statusId && refs.status_category === null) throw invalid(`${prefix}.statusId`, "no such status");
}

export const conflict = (message: string, details?: unknown) =>
  new AppError("invalid_transition", 409, message, details);
