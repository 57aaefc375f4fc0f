import { Alert, Badge, Button, FileInput, Group, Paper, Select, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ApiError } from "../../api/client.ts";
import { Section } from "../../components/section.tsx";
import type { ImportField, ImportResult } from "./types.ts";
import { AdminPage } from "./ui.tsx";

const FIELD_LABELS: Record<ImportField, string> = {
  "client.name": "Client name",
  "client.phone": "Client phone",
  "client.website": "Client website",
  "client.domain": "Client email domain",
  "site.name": "Site name",
  "site.addressLine1": "Site address line 1",
  "site.addressLine2": "Site address line 2",
  "site.city": "Site city",
  "site.region": "Site state / region",
  "site.postalCode": "Site postal code",
  "site.country": "Site country",
  "contact.firstName": "Contact first name",
  "contact.lastName": "Contact last name",
  "contact.fullName": "Contact full name",
  "contact.email": "Contact email",
  "contact.phone": "Contact phone",
  "contact.mobile": "Contact mobile",
  "contact.title": "Contact title",
};
const FIELD_OPTIONS = [
  { value: "", label: "Ignore this column" },
  ...Object.entries(FIELD_LABELS).map(([value, label]) => ({ value, label })),
];
const FORMAT_LABELS: Record<string, string> = {
  connectwise: "ConnectWise PSA export",
  autotask: "Autotask export",
  halopsa: "HaloPSA export",
  generic: "Spreadsheet",
};

/** Uploads the file as multipart (the server streams it); answers the import's report. */
async function upload(file: File, dryRun: boolean, mapping: Record<string, ImportField | null>) {
  const form = new FormData();
  form.append("file", file);
  const query = new URLSearchParams({ dryRun: String(dryRun) });
  if (Object.keys(mapping).length) query.set("mapping", JSON.stringify(mapping));
  let res: Response;
  try {
    res = await fetch(`/api/v1/imports/clients-contacts?${query}`, {
      method: "POST",
      body: form,
      credentials: "same-origin",
      headers: { accept: "application/json" },
    });
  } catch {
    throw new ApiError(0, "network_error", "The server cannot be reached. Check the connection.");
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data?.error;
    throw new ApiError(
      res.status,
      err?.code ?? "http_error",
      err?.message ?? `HTTP ${res.status}`,
      err?.details,
    );
  }
  return data as ImportResult;
}

export function ImportPage() {
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [mapping, setMapping] = useState<Record<string, ImportField | null>>({});
  const preview = useMutation({
    mutationFn: (v: { file: File; mapping: Record<string, ImportField | null> }) =>
      upload(v.file, true, v.mapping),
  });
  const run = useMutation({
    mutationFn: (f: File) => upload(f, false, mapping),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["clients"] });
      qc.invalidateQueries({ queryKey: ["contacts"] });
    },
  });
  const result = run.data ?? preview.data;
  const error = run.error ?? preview.error;
  const fileError = error instanceof ApiError ? error.fieldError("file") : undefined;

  const choose = (f: File | null) => {
    setFile(f);
    setMapping({});
    preview.reset();
    run.reset();
    if (f) preview.mutate({ file: f, mapping: {} });
  };
  const remap = (header: string, value: string | null) => {
    const next = { ...mapping, [header]: (value || null) as ImportField | null };
    setMapping(next);
    run.reset();
    if (file) preview.mutate({ file, mapping: next });
  };

  return (
    <AdminPage
      title="Import clients and contacts"
      intro="A CSV export from ConnectWise PSA, Autotask or HaloPSA (or any spreadsheet with a client name column). You see what it would do before anything is written; importing the same file again changes nothing."
    >
      <Paper p="sm">
        <Stack gap="sm">
          <FileInput
            label="CSV file"
            placeholder="Choose a .csv file"
            accept=".csv,text/csv"
            value={file}
            onChange={choose}
            clearable
            clearButtonProps={{ "aria-label": "Remove the file" }}
            error={fileError}
          />
          {error && !fileError && (
            <Alert color="red" role="alert" p="xs">
              {error.message}
            </Alert>
          )}
          {preview.isPending && <Text fz="sm">Reading the file…</Text>}
        </Stack>
      </Paper>
      {result && (
        <>
          <Section id="import-columns" title={`Columns (${FORMAT_LABELS[result.format] ?? result.format})`}>
            <Table aria-labelledby="import-columns">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Column in the file</Table.Th>
                  <Table.Th>Imported as</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {result.columns.map((c) => (
                  <Table.Tr key={c.header}>
                    <Table.Td fz="sm">{c.header}</Table.Td>
                    <Table.Td>
                      <Select
                        aria-label={`Import "${c.header}" as`}
                        size="xs"
                        data={FIELD_OPTIONS}
                        value={c.field ?? ""}
                        onChange={(v) => remap(c.header, v)}
                        allowDeselect={false}
                        disabled={run.isSuccess}
                      />
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Section>
          <ImportReport result={result} />
          {!run.isSuccess && file && (
            <Group>
              <Button onClick={() => run.mutate(file)} loading={run.isPending} disabled={preview.isPending}>
                Import {result.rows} rows
              </Button>
              <Text fz="xs" c="dimmed">
                Rows with errors are left out; the others are written in batches.
              </Text>
            </Group>
          )}
        </>
      )}
    </AdminPage>
  );
}

function ImportReport({ result }: { result: ImportResult }) {
  const verb = result.dryRun ? "would be" : "were";
  return (
    <Section id="import-report" title={result.dryRun ? "Preview: nothing is written yet" : "Imported"}>
      <Stack gap="xs" p="sm">
        <Text fz="sm" role="status" data-testid="import-summary">
          {result.rows} rows. Clients: {result.clients.created} {verb} created, {result.clients.updated}{" "}
          updated, {result.clients.unchanged} already there. Contacts: {result.contacts.created} {verb}{" "}
          created, {result.contacts.updated} updated, {result.contacts.skipped} skipped. {result.errors} with
          errors.
        </Text>
        {result.outcomes.length > 0 && (
          <Table aria-label="Rows" fz="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Row</Table.Th>
                <Table.Th>Outcome</Table.Th>
                <Table.Th>Client</Table.Th>
                <Table.Th>Contact</Table.Th>
                <Table.Th>Why</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {result.outcomes.map((o) => (
                <Table.Tr key={o.row}>
                  <Table.Td>{o.row}</Table.Td>
                  <Table.Td>
                    <Badge
                      variant="light"
                      color={o.outcome === "error" ? "red" : o.outcome === "created" ? "teal" : "gray"}
                    >
                      {o.outcome}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{o.client}</Table.Td>
                  <Table.Td>{o.contact}</Table.Td>
                  <Table.Td>{o.reason}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Section>
  );
}
