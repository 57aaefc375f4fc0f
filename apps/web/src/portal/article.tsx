import { Alert, Anchor, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useParams } from "wouter";
import { SafeHtml } from "../shared/safe-html.tsx";
import { call, when } from "./api.ts";

export function ArticlePage() {
  const { id } = useParams<{ id: string }>();
  const a = useQuery({
    queryKey: ["article", id],
    queryFn: () =>
      call<{ id: string; title: string; bodyHtml: string; updatedAt: string }>(
        "GET",
        `/portal/kb/articles/${id}`,
      ),
  });
  if (a.isPending) return <Text role="status">Loading…</Text>;
  if (a.isError) return <Alert color="red">{a.error.message}</Alert>;
  return (
    <Stack>
      <Anchor component="button" type="button" onClick={() => window.history.back()} ta="left">
        Back
      </Anchor>
      <Title order={1}>{a.data.title}</Title>
      <Text size="sm">Updated {when(a.data.updatedAt)}</Text>
      {/* The server sanitised this HTML when it was saved (no script, handlers or javascript: links). */}
      <SafeHtml html={a.data.bodyHtml} />
    </Stack>
  );
}
