import {
  CreateTicketRuleRequest,
  IdParams,
  ReorderTicketRulesRequest,
  TicketRuleDto,
  TicketRuleList,
  UpdateTicketRuleRequest,
} from "@switchboard/shared";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn } from "../../http/policy.ts";
import { createRule, deleteRule, listRules, reorderRules, updateRule } from "./rules.ts";

/** Ticket rules: ordered lists (each client's, then the MSP's) deciding what an alert's ticket is. */
export async function ruleRoutes(app: App, deps: AppDeps) {
  const tags = ["monitoring"];
  const managers = rolesOnly(["admin", "dispatcher"]);
  app.get(
    "/api/v1/monitoring/ticket-rules",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "How alerts become tickets: the MSP's rules and each client's, in order",
        response: { 200: TicketRuleList },
      },
    },
    async (req) => ({ items: await listRules(deps.db, actorOf(req)) }),
  );
  app.post(
    "/api/v1/monitoring/ticket-rules",
    {
      config: managers,
      schema: {
        tags,
        summary: "Add a rule at the end of a client's list (or the MSP's)",
        body: CreateTicketRuleRequest,
        response: { 201: TicketRuleDto },
      },
    },
    async (req, reply) => {
      const rule = await createRule(deps.db, actorOf(req), req.body);
      reply.code(201);
      return rule;
    },
  );
  app.put(
    "/api/v1/monitoring/ticket-rules/:id",
    {
      config: managers,
      schema: {
        tags,
        summary: "Change a rule's conditions and actions",
        params: IdParams,
        body: UpdateTicketRuleRequest,
        response: { 200: TicketRuleDto },
      },
    },
    async (req) => updateRule(deps.db, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/monitoring/ticket-rules/order",
    {
      config: managers,
      schema: {
        tags,
        summary: "Put a client's (or the MSP's) rules in a new order: the first that matches decides",
        body: ReorderTicketRulesRequest,
        response: { 200: TicketRuleList },
      },
    },
    async (req) => ({ items: await reorderRules(deps.db, actorOf(req), req.body) }),
  );
  app.delete(
    "/api/v1/monitoring/ticket-rules/:id",
    {
      config: managers,
      schema: { tags, summary: "Remove a ticket rule", params: IdParams },
    },
    async (req, reply) => {
      await deleteRule(deps.db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
}
