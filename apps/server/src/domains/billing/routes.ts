import {
  AddBlockRequest,
  BillingRunDto,
  BillingRunRequest,
  BlockBalanceRow,
  ContractDto,
  CreateContractRequest,
  CreateProjectRequest,
  CreateProjectTaskRequest,
  ErrorResponse,
  ExportQuery,
  IdParams,
  InvoiceDto,
  InvoiceListQuery,
  ProfitabilityRow,
  ProjectDto,
  PublicQuoteDto,
  QuoteDecisionRequest,
  ReportQuery,
  SendQuoteRequest,
  UpdateContractRequest,
  UpdateProjectRequest,
  UpdateProjectTaskRequest,
  UtilisationRow,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { asSystem } from "../../db/scope.ts";
import { actorOf } from "../../http/auth.ts";
import { AppError } from "../../http/errors.ts";
import { publicRoute, rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { addBlock, createContract, getContract, listContracts, updateContract } from "./contracts.ts";
import { invoicePdf, invoicesCsv } from "./export.ts";
import { approveInvoice, discardDraft, getInvoice, listInvoices } from "./invoices.ts";
import {
  addTask,
  createProject,
  decideQuote,
  getProject,
  listProjects,
  publicQuote,
  sendQuote,
  updateProject,
  updateTask,
} from "./projects.ts";
import { blockReport, profitability, utilisation } from "./reports.ts";
import { runBilling } from "./run.ts";

const tags = ["billing"];
const errors = { 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const managers = rolesOnly(["admin", "dispatcher"]);
const admins = rolesOnly(["admin"]);

export async function billingRoutes(app: App, deps: AppDeps) {
  const { db } = deps;
  app.get(
    "/api/v1/contracts",
    {
      config: managers,
      schema: {
        tags,
        summary: "Contracts, with lines and prepaid blocks",
        querystring: z.object({ clientId: z.uuid().optional() }),
        response: { 200: z.array(ContractDto) },
      },
    },
    async (req) => listContracts(db, actorOf(req), req.query.clientId),
  );
  app.post(
    "/api/v1/contracts",
    {
      config: admins,
      schema: {
        tags,
        summary: "Create a client's contract",
        body: CreateContractRequest,
        response: { 201: ContractDto, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await createContract(db, actorOf(req), req.body)),
  );
  app.get(
    "/api/v1/contracts/:id",
    { config: managers, schema: { tags, params: IdParams, response: { 200: ContractDto, ...errors } } },
    async (req) => getContract(db, actorOf(req), req.params.id),
  );
  app.patch(
    "/api/v1/contracts/:id",
    {
      config: admins,
      schema: {
        tags,
        summary: "Change a contract (lines are replaced as a whole)",
        params: IdParams,
        body: UpdateContractRequest,
        response: { 200: ContractDto, ...errors },
      },
    },
    async (req) => updateContract(db, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/contracts/:id/blocks",
    {
      config: admins,
      schema: {
        tags,
        summary: "Add prepaid hours",
        params: IdParams,
        body: AddBlockRequest,
        response: { 201: ContractDto, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await addBlock(db, actorOf(req), req.params.id, req.body)),
  );
  app.post(
    "/api/v1/billing/runs",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary: "Run billing for a month: draft invoices (approved ones are kept)",
        body: BillingRunRequest,
        response: { 200: BillingRunDto, ...errors },
      },
    },
    async (req) => runBilling(db, actorOf(req), req.body),
  );
  app.get(
    "/api/v1/invoices",
    {
      config: managers,
      schema: { tags, querystring: InvoiceListQuery, response: { 200: z.array(InvoiceDto) } },
    },
    async (req) => listInvoices(db, actorOf(req), req.query),
  );
  app.get(
    "/api/v1/invoices/export.csv",
    {
      config: admins,
      schema: {
        tags,
        summary: "A month's invoices as CSV for QuickBooks Online or Xero",
        querystring: ExportQuery,
      },
    },
    async (req, reply) => {
      const invoices = await listInvoices(db, actorOf(req), {
        period: req.query.period,
        status: req.query.status === "all" ? undefined : "approved",
      });
      return reply
        .type("text/csv; charset=utf-8")
        .header(
          "content-disposition",
          `attachment; filename="invoices-${req.query.period.slice(0, 7)}-${req.query.format}.csv"`,
        )
        .send(invoicesCsv(invoices, req.query.format));
    },
  );
  app.get(
    "/api/v1/invoices/:id",
    { config: managers, schema: { tags, params: IdParams, response: { 200: InvoiceDto, ...errors } } },
    async (req) => getInvoice(db, actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/invoices/:id/pdf",
    { config: managers, schema: { tags, summary: "The invoice as a PDF", params: IdParams } },
    async (req, reply) => {
      const invoice = await getInvoice(db, actorOf(req), req.params.id);
      const msp = (await db.selectFrom("msp").select("name").executeTakeFirst()) ?? { name: "" };
      return reply
        .type("application/pdf")
        .header("content-disposition", `attachment; filename="invoice-${invoice.number}.pdf"`)
        .send(await invoicePdf(invoice, msp));
    },
  );
  app.post(
    "/api/v1/invoices/:id/approve",
    {
      config: admins,
      schema: {
        tags,
        summary: "Approve a draft (final: its time is billed)",
        params: IdParams,
        response: { 200: InvoiceDto, ...errors },
      },
    },
    async (req) => approveInvoice(db, actorOf(req), req.params.id),
  );
  app.delete(
    "/api/v1/invoices/:id",
    { config: admins, schema: { tags, summary: "Discard a draft", params: IdParams } },
    async (req, reply) => {
      await discardDraft(db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.get(
    "/api/v1/projects",
    {
      config: signedIn,
      schema: {
        tags: ["projects"],
        querystring: z.object({ clientId: z.uuid().optional() }),
        response: { 200: z.array(ProjectDto) },
      },
    },
    async (req) => listProjects(db, actorOf(req), req.query.clientId),
  );
  app.post(
    "/api/v1/projects",
    {
      config: managers,
      schema: {
        tags: ["projects"],
        summary: "Create a project (and its ticket)",
        body: CreateProjectRequest,
        response: { 201: ProjectDto, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await createProject(db, actorOf(req), req.body)),
  );
  app.get(
    "/api/v1/projects/:id",
    {
      config: signedIn,
      schema: { tags: ["projects"], params: IdParams, response: { 200: ProjectDto, ...errors } },
    },
    async (req) => getProject(db, actorOf(req), req.params.id),
  );
  app.patch(
    "/api/v1/projects/:id",
    {
      config: managers,
      schema: {
        tags: ["projects"],
        params: IdParams,
        body: UpdateProjectRequest,
        response: { 200: ProjectDto, ...errors },
      },
    },
    async (req) => updateProject(db, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/projects/:id/tasks",
    {
      config: writers,
      schema: {
        tags: ["projects"],
        params: IdParams,
        body: CreateProjectTaskRequest,
        response: { 201: ProjectDto, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await addTask(db, actorOf(req), req.params.id, req.body)),
  );
  app.patch(
    "/api/v1/project-tasks/:id",
    {
      config: writers,
      schema: {
        tags: ["projects"],
        params: IdParams,
        body: UpdateProjectTaskRequest,
        response: { 200: ProjectDto, ...errors },
      },
    },
    async (req) => updateTask(db, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/projects/:id/quote",
    {
      config: managers,
      schema: {
        tags: ["projects"],
        summary: "Send the quote to a contact for approval",
        params: IdParams,
        body: SendQuoteRequest,
        response: { 200: ProjectDto, ...errors },
      },
    },
    async (req) => {
      if (!deps.boss)
        throw new AppError("internal_error", 500, "The job queue is not running in this process");
      const base = (deps.config.SWITCHBOARD_PUBLIC_URL ?? `${req.protocol}://${req.headers.host}`).replace(
        /\/$/,
        "",
      );
      return sendQuote({ ...deps, boss: deps.boss }, actorOf(req), req.params.id, req.body, base);
    },
  );
  // The quote link: its token is the credential, checked inside; then the work is the system's.
  app.get(
    "/api/v1/public/quotes/:token",
    {
      config: publicRoute,
      schema: {
        tags: ["projects"],
        params: z.object({ token: z.string().min(1).max(200) }),
        response: { 200: PublicQuoteDto, ...errors },
      },
    },
    async (req) => asSystem(() => publicQuote(db, req.params.token)),
  );
  app.post(
    "/api/v1/public/quotes/:token",
    {
      config: publicRoute,
      schema: {
        tags: ["projects"],
        params: z.object({ token: z.string().min(1).max(200) }),
        body: QuoteDecisionRequest,
        response: { 200: PublicQuoteDto, ...errors },
      },
    },
    async (req) => asSystem(() => decideQuote(db, req.params.token, req.body, req.ip)),
  );
  app.get(
    "/api/v1/reports/utilisation",
    {
      config: managers,
      schema: {
        tags: ["reports"],
        querystring: ReportQuery,
        response: { 200: z.array(UtilisationRow), ...errors },
      },
    },
    async (req) => utilisation(db, actorOf(req), req.query.from, req.query.to),
  );
  app.get(
    "/api/v1/reports/profitability",
    {
      config: admins,
      schema: {
        tags: ["reports"],
        querystring: ReportQuery,
        response: { 200: z.array(ProfitabilityRow), ...errors },
      },
    },
    async (req) => profitability(db, actorOf(req), req.query.from, req.query.to),
  );
  app.get(
    "/api/v1/reports/blocks",
    { config: managers, schema: { tags: ["reports"], response: { 200: z.array(BlockBalanceRow) } } },
    async (req) => blockReport(db, actorOf(req)),
  );
}
