import { Button, Modal, Stack, Text, TextInput, UnstyledButton } from "@mantine/core";
import { useDebouncedValue, useDisclosure } from "@mantine/hooks";
import type { ArticleDto, ArticleSummaryDto } from "@switchboard/shared";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";

/** "Insert article" in the composer: finds an article and puts its text into the reply. */
export function InsertArticle({
  clientId,
  onInsert,
  disabled,
}: {
  clientId: string;
  onInsert: (text: string) => void;
  disabled?: boolean;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const [q, setQ] = useState("");
  const [debounced] = useDebouncedValue(q, 250);
  const found = useQuery({
    queryKey: ["kb", "insert", clientId, debounced],
    queryFn: () =>
      get<ArticleSummaryDto[]>("/kb/articles", { q: debounced || undefined, clientId, limit: 10 }),
    enabled: opened,
  });
  const pick = async (id: string) => {
    const a = await get<ArticleDto>(`/kb/articles/${id}`);
    onInsert(a.bodyText);
    close();
  };
  return (
    <>
      <Button variant="subtle" color="gray" onClick={open} disabled={disabled}>
        Insert article
      </Button>
      <Modal opened={opened} onClose={close} title="Insert an article into the reply">
        <Stack>
          <TextInput
            label="Search articles"
            value={q}
            onChange={(e) => setQ(e.currentTarget.value)}
            data-autofocus
          />
          {(found.data ?? []).map((a) => (
            <UnstyledButton key={a.id} onClick={() => pick(a.id)} p={6} style={{ borderRadius: 4 }}>
              <Text fw={600} fz="sm">
                {a.title}
              </Text>
              <Text fz="xs" c="dimmed" lineClamp={2}>
                {a.excerpt}
              </Text>
            </UnstyledButton>
          ))}
          {found.data?.length === 0 && <Text fz="sm">No articles match.</Text>}
        </Stack>
      </Modal>
    </>
  );
}
