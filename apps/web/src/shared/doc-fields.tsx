import { List, Table, Text, Title } from "@mantine/core";

// How a document's values are shown, in the console and on a share link's page alike.

export interface Field {
  key: string;
  label: string;
  type: "text" | "textarea" | "list" | "table";
  columns?: Array<{ key: string; label: string }>;
}

export function FieldView({ field, value }: { field: Field; value: unknown }) {
  if (value === undefined || value === "" || (Array.isArray(value) && value.length === 0)) return null;
  return (
    <section aria-label={field.label}>
      <Title order={3} size="h5">
        {field.label}
      </Title>
      {field.type === "table" && Array.isArray(value) ? (
        <Table withTableBorder>
          <Table.Thead>
            <Table.Tr>
              {(field.columns ?? []).map((c) => (
                <Table.Th key={c.key}>{c.label}</Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(value as Array<Record<string, string>>).map((row, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity of their own
              <Table.Tr key={i}>
                {(field.columns ?? []).map((c) => (
                  <Table.Td key={c.key}>{row[c.key] ?? ""}</Table.Td>
                ))}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : field.type === "list" && Array.isArray(value) ? (
        <List type="ordered">
          {(value as string[]).map((v, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: list items have no identity of their own
            <List.Item key={i}>{v}</List.Item>
          ))}
        </List>
      ) : (
        <Text style={{ whiteSpace: "pre-wrap" }}>{String(value)}</Text>
      )}
    </section>
  );
}
