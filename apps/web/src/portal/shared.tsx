import { Alert, Anchor, Container, List, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useEffect, useRef, useState } from "react";
import { type Field, FieldView } from "../shared/doc-fields.tsx";
import { SafeHtml } from "../shared/safe-html.tsx";
import { call, fragment } from "./api.ts";

interface Shared {
  client: string;
  expiresAt: string;
  documents: Array<{
    id: string;
    title: string;
    layout: string;
    fields: Field[];
    data: Record<string, unknown>;
    notesHtml: string;
    files: Array<{ id: string; filename: string; sizeBytes: number }>;
  }>;
}

/** Documents shared by link: the token (from the fragment) is posted, never put in a URL. */
export function SharedPage() {
  const token = useRef(fragment().get("token") ?? "");
  const [data, setData] = useState<Shared | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    call<Shared>("POST", "/shared/open", { token: token.current }).then(setData, (e: Error) =>
      setError(e.message),
    );
  }, []);
  const download = async (id: string, filename: string) => {
    const res = await fetch(`/api/v1/shared/files/${id}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: token.current }),
    });
    if (!res.ok) return setError("The file could not be downloaded");
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = filename;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <Container size="md" py="xl" component="main">
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      {data && (
        <Stack>
          <Title order={1}>Documentation for {data.client}</Title>
          <Text size="sm">This link works until {new Date(data.expiresAt).toLocaleString()}.</Text>
          {data.documents.map((d) => (
            <Paper key={d.id} withBorder p="md" component="article">
              <Title order={2}>{d.title}</Title>
              <Text size="sm" mb="sm">
                {d.layout}
              </Text>
              <Stack>
                {d.fields.map((f) => (
                  <FieldView key={f.key} field={f} value={d.data[f.key]} />
                ))}
                {d.notesHtml && <SafeHtml html={d.notesHtml} />}
                {d.files.map((f) => (
                  <Anchor
                    key={f.id}
                    component="button"
                    type="button"
                    onClick={() => download(f.id, f.filename)}
                    ta="left"
                  >
                    Download {f.filename}
                  </Anchor>
                ))}
              </Stack>
            </Paper>
          ))}
        </Stack>
      )}
    </Container>
  );
}
