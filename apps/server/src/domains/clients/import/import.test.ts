import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../../test/helpers.ts";
import { mapColumns } from "./columns.ts";

function multipart(csv: string, filename = "export.csv") {
  const boundary = `----sb${rand()}`;
  const payload = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n${csv}\r\n--${boundary}--\r\n`,
  );
  return { payload, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

describe("CSV import of clients and contacts", () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: "admin" });
  });
  afterAll(() => t.close());

  const upload = (csv: string, query = "", who: TestUser = admin) => {
    const body = multipart(csv);
    return t.app.inject({
      method: "POST",
      url: `/api/v1/imports/clients-contacts${query}`,
      headers: { ...who.auth, ...body.headers },
      payload: body.payload,
    });
  };

  it("maps the real export headers of ConnectWise, Autotask and HaloPSA", () => {
    const cw = mapColumns([
      "Company Name",
      "Company ID",
      "First Name",
      "Last Name",
      "Title",
      "Default Email",
      "Direct",
      "Mobile",
      "Site",
    ]);
    expect(cw.format).toBe("connectwise");
    expect(cw.columns.map((c) => c.field)).toEqual([
      "client.name",
      null,
      "contact.firstName",
      "contact.lastName",
      "contact.title",
      "contact.email",
      "contact.phone",
      "contact.mobile",
      "site.name",
    ]);
    const at = mapColumns([
      "[required] Organization: Name",
      "Organization: Phone",
      "Organization: Address 1",
      "Organization: City",
      "Organization: State",
      "Organization: Zip Code",
      "[required *] Contact: First Name",
      "[required *] Contact: Last Name",
      "Contact: Email Address",
      "Contact: Mobile Phone",
    ]);
    expect(at.format).toBe("autotask");
    expect(at.columns.map((c) => c.field)).toEqual([
      "client.name",
      "client.phone",
      "site.addressLine1",
      "site.city",
      "site.region",
      "site.postalCode",
      "contact.firstName",
      "contact.lastName",
      "contact.email",
      "contact.mobile",
    ]);
    const halo = mapColumns([
      "Client Name",
      "Site Name",
      "Name",
      "Email Address",
      "Phone Number",
      "Job Title",
    ]);
    expect(halo.format).toBe("halopsa");
    expect(halo.columns.map((c) => c.field)).toEqual([
      "client.name",
      "site.name",
      "contact.fullName",
      "contact.email",
      "contact.phone",
      "contact.title",
    ]);
    // A company list: its plain "Phone" is the company's.
    const companies = mapColumns(["Company Name", "Phone", "Web Site", "City"]);
    expect(companies.columns.map((c) => c.field)).toEqual([
      "client.name",
      "client.phone",
      "client.website",
      "site.city",
    ]);
  });

  it("previews without writing, imports, and a re-run creates nothing twice", async () => {
    const acme = rand("Riverbend Dental ");
    const csv = [
      "Company Name,Company ID,First Name,Last Name,Title,Default Email,Direct,Web Site",
      `"${acme}",RB1,Maria,Lopez,Office manager,maria@riverbend.example,(517) 555-0100 ext. 12,https://www.riverbend.example`,
      `"${acme}",RB1,Tom,Nguyen,,tom@riverbend.example,517.555.0101,`,
      `,RB2,No,Company,,no@company.example,,`,
      `"${acme}",RB1,Bad,Email,,not-an-email,,`,
    ].join("\n");
    const preview = await upload(csv, "?dryRun=true");
    expect(preview.statusCode).toBe(200);
    expect(preview.json()).toMatchObject({
      dryRun: true,
      format: "connectwise",
      rows: 4,
      clients: { created: 1 },
      contacts: { created: 2, updated: 0, skipped: 0 },
      errors: 2,
    });
    const errors = preview.json().outcomes.filter((o: { outcome: string }) => o.outcome === "error");
    expect(errors).toEqual([
      expect.objectContaining({ row: 4, reason: "Company Name is empty" }),
      expect.objectContaining({ row: 5, reason: 'Default Email "not-an-email" is not an email address' }),
    ]);
    expect(await t.db.selectFrom("clients").select("id").where("name", "=", acme).execute()).toEqual([]);

    const run = await upload(csv);
    expect(run.json()).toMatchObject({
      dryRun: false,
      clients: { created: 1 },
      contacts: { created: 2 },
      errors: 2,
    });
    const client = await t.db
      .selectFrom("clients")
      .selectAll()
      .where("name", "=", acme)
      .executeTakeFirstOrThrow();
    expect(client.email_domains).toEqual(["riverbend.example"]);
    const contacts = await t.db
      .selectFrom("contacts")
      .select(["first_name", "emails", "phones", "title"])
      .where("client_id", "=", client.id)
      .orderBy("first_name")
      .execute();
    expect(contacts).toEqual([
      {
        first_name: "Maria",
        emails: ["maria@riverbend.example"],
        phones: [{ label: "work", number: "(517) 555-0100 x12" }],
        title: "Office manager",
      },
      {
        first_name: "Tom",
        emails: ["tom@riverbend.example"],
        phones: [{ label: "work", number: "517.555.0101" }],
        title: null,
      },
    ]);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("after")
      .where("action", "=", "import.clients_contacts")
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    expect((audit.after as { clients: string[] }).clients).toContain(client.id);

    const again = await upload(csv);
    expect(again.json()).toMatchObject({
      clients: { created: 0, updated: 0, unchanged: 1 },
      contacts: { created: 0, updated: 0, skipped: 2 },
    });
    expect(again.json().outcomes.find((o: { row: number }) => o.row === 2)).toMatchObject({
      outcome: "skipped",
      reason: "already up to date",
    });

    // A later export with a new number for Tom updates him and says what changed.
    const more = [
      "Company Name,First Name,Last Name,Default Email,Mobile",
      `"${acme}",Tom,Nguyen,tom@riverbend.example,517-555-0199`,
    ].join("\n");
    const updated = await upload(more);
    expect(updated.json().contacts).toEqual({ created: 0, updated: 1, skipped: 0 });
    expect(updated.json().outcomes[0]).toMatchObject({ outcome: "updated", reason: "added a phone number" });
  });

  it("imports an Autotask organization-and-contact template with sites", async () => {
    const org = rand("Lansing Library ");
    const csv = [
      "[required] Organization: Name,Organization: Phone,Organization: Address 1,Organization: City,Organization: State,Organization: Zip Code,[required *] Contact: First Name,[required *] Contact: Last Name,Contact: Email Address",
      `${org},517-555-0000,401 S Capitol Ave,Lansing,MI,48933,Ruth,Bright,ruth@lansinglib.example`,
    ].join("\n");
    const res = await upload(csv);
    expect(res.json()).toMatchObject({
      format: "autotask",
      clients: { created: 1 },
      contacts: { created: 1 },
      errors: 0,
    });
    const client = await t.db
      .selectFrom("clients")
      .selectAll()
      .where("name", "=", org)
      .executeTakeFirstOrThrow();
    expect(client.phone).toBe("517-555-0000");
    const site = await t.db
      .selectFrom("sites")
      .selectAll()
      .where("client_id", "=", client.id)
      .executeTakeFirstOrThrow();
    expect(site).toMatchObject({
      name: "Main",
      address_line1: "401 S Capitol Ave",
      city: "Lansing",
      region: "MI",
      postal_code: "48933",
    });
    const contact = await t.db
      .selectFrom("contacts")
      .selectAll()
      .where("client_id", "=", client.id)
      .executeTakeFirstOrThrow();
    expect(contact.site_id).toBe(site.id);
  });

  it("refuses a file without a client column, a non-multipart body, and callers who do not manage every client", async () => {
    const res = await upload("First Name,Email\nA,a@example.test");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0]).toMatchObject({ path: "body.file" });
    expect(res.json().error.details.issues[0].message).toMatch(/client's name/);
    const json = await t.app.inject({
      method: "POST",
      url: "/api/v1/imports/clients-contacts",
      headers: admin.auth,
      payload: {},
    });
    expect(json.statusCode).toBe(415);
    const client = await makeClient(t);
    const limited = await makeUser(t, { role: "admin", clientIds: [client.id] });
    expect((await upload("Company Name\nX", "", limited)).statusCode).toBe(403);
    const badMapping = await upload("Company Name\nX", "?mapping=%7B%22Company%20Name%22%3A%22nope%22%7D");
    expect(badMapping.statusCode).toBe(400);
    expect(badMapping.json().error.details.issues[0].path).toBe("query.mapping");
  });
});
