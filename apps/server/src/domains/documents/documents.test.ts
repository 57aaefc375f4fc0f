import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeContact,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";

let t: TestApp;
let tech: TestUser;
let network: string;

beforeAll(async () => {
  t = await createTestApp({ SWITCHBOARD_PUBLIC_URL: "https://help.msp.example" });
  tech = await makeUser(t);
  const layouts = (
    await t.app.inject({ method: "GET", url: "/api/v1/doc-layouts", headers: tech.auth })
  ).json();
  network = layouts.find((l: { name: string }) => l.name === "Network").id;
});
afterAll(() => t.close());

const call = (method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object, u = tech) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: u.auth, payload });

async function networkDoc(clientId: string, circuitId = rand("CKT-")) {
  const site = await t.db
    .insertInto("sites")
    .values({ client_id: clientId, name: "Main office" })
    .returning("id")
    .executeTakeFirstOrThrow();
  const res = await call("POST", "/documents", {
    clientId,
    layoutId: network,
    title: "Office network",
    data: {
      subnets: [{ cidr: "10.20.0.0/24", gateway: "10.20.0.1", vlan: "20", purpose: "staff" }],
      circuits: [{ provider: "Lakeshore Fiber", circuitId, supportPhone: "+1 517 555 0199" }],
      firewall: "FortiGate 60F at the rack",
    },
    notesHtml: "<p>Rack in the <b>back room</b></p><script>x()</script>",
    links: [{ type: "site", id: site.id }],
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

describe("client documentation", () => {
  it("keeps structured records in a layout, linked, versioned, searchable", async () => {
    const client = await makeClient(t);
    const circuit = rand("CKT");
    const doc = await networkDoc(client.id, circuit);
    expect(doc.notesHtml).toBe("<p>Rack in the <b>back room</b></p>");
    expect(doc.links).toEqual([expect.objectContaining({ type: "site", name: "Main office" })]);
    const bad = await call("POST", "/documents", {
      clientId: client.id,
      layoutId: network,
      title: "x",
      data: { nope: "1" },
    });
    expect(bad.json().error.details.issues[0].path).toBe("body.data.nope");
    const badCol = await call("POST", "/documents", {
      clientId: client.id,
      layoutId: network,
      title: "x",
      data: { vlans: [{ colour: "red" }] },
    });
    expect(badCol.statusCode).toBe(400);

    const edited = await call("PATCH", `/documents/${doc.id}`, {
      version: doc.version,
      data: { ...doc.data, firewall: "Replaced by a 70F" },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json().versions).toEqual([expect.objectContaining({ version: 1, author: tech.name })]);
    const v1 = (await call("GET", `/documents/${doc.id}/versions/1`)).json();
    expect(v1.data.firewall).toBe("FortiGate 60F at the rack");
    expect(
      (await call("PATCH", `/documents/${doc.id}`, { version: doc.version, title: "stale" })).statusCode,
    ).toBe(412);

    const found = (await call("GET", `/search?q=${circuit}`)).json();
    expect(found.documents.map((d: { id: string }) => d.id)).toEqual([doc.id]);
    const limited = await makeUser(t, { clientIds: [(await makeClient(t)).id] });
    expect((await call("GET", `/documents/${doc.id}`, undefined, limited)).statusCode).toBe(404);
    expect((await call("GET", `/search?q=${circuit}`, undefined, limited)).json().documents).toEqual([]);
  });

  it("shares documents by an expiring link recorded on the ticket; the link opens them and their files, nothing else", async () => {
    const client = await makeClient(t);
    const other = await makeClient(t);
    const doc = await networkDoc(client.id);
    const otherDoc = await networkDoc(other.id);
    const boundary = "----doc";
    const up = await t.app.inject({
      method: "POST",
      url: `/api/v1/documents/${doc.id}/files`,
      headers: { ...tech.auth, "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="diagram.txt"\r\nContent-Type: text/plain\r\n\r\nswitch -> firewall\r\n--${boundary}--\r\n`,
    });
    expect(up.statusCode, up.body).toBe(201);
    const otherFile = await t.db
      .insertInto("document_files")
      .values({
        document_id: otherDoc.id,
        client_id: other.id,
        filename: "x",
        content_type: "text/plain",
        size_bytes: 1,
        sha256: "x",
        storage_key: "x",
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const contact = await makeContact(t, client.id);
    const ticket = (
      await call("POST", "/tickets", { subject: "Network documentation please", clientId: client.id })
    ).json();

    expect((await call("POST", "/document-shares", { documentIds: [doc.id, otherDoc.id] })).statusCode).toBe(
      400,
    );
    const shared = await call("POST", "/document-shares", {
      documentIds: [doc.id],
      contactId: contact.id,
      ticketId: ticket.id,
      expiresInDays: 3,
    });
    expect(shared.statusCode, shared.body).toBe(201);
    const token = /#token=(.+)$/.exec(shared.json().url)![1]!;
    const stored = await t.db
      .selectFrom("document_shares")
      .selectAll()
      .where("id", "=", shared.json().id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(token);
    const timeline = (await call("GET", `/tickets/${ticket.id}/timeline`)).json();
    expect(
      timeline.items.find((e: { event: { type?: string } | null }) => e.event?.type === "documents_shared"),
    ).toBeTruthy();

    const opened = await t.app.inject({ method: "POST", url: "/api/v1/shared/open", payload: { token } });
    expect(opened.statusCode, opened.body).toBe(200);
    expect(opened.json().documents.map((d: { id: string }) => d.id)).toEqual([doc.id]);
    expect(opened.json().documents[0].data.circuits[0].provider).toBe("Lakeshore Fiber");
    const file = await t.app.inject({
      method: "POST",
      url: `/api/v1/shared/files/${up.json().id}`,
      payload: { token },
    });
    expect(file.body).toBe("switch -> firewall");
    expect(
      (
        await t.app.inject({
          method: "POST",
          url: `/api/v1/shared/files/${otherFile.id}`,
          payload: { token },
        })
      ).statusCode,
    ).toBe(404);

    await t.db
      .updateTable("document_shares")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", stored.id)
      .execute();
    expect(
      (await t.app.inject({ method: "POST", url: "/api/v1/shared/open", payload: { token } })).statusCode,
    ).toBe(404);
    expect(
      (
        await t.app.inject({
          method: "POST",
          url: "/api/v1/shared/open",
          payload: { token: "sbs_not-a-real-token" },
        })
      ).statusCode,
    ).toBe(404);
  });
});
