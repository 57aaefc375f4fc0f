import { Button, Group, Paper, Select, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client.ts";
import { useMe, useStatuses, useUsers } from "../../api/hooks.ts";
import { keys } from "../../api/keys.ts";
import type { BulkUpdate } from "../../api/types.ts";

/** Assign, resolve or tag many tickets at once (POST /tickets/bulk). */
export function BulkBar({ ids, onDone }: { ids: string[]; onDone: () => void }) {
  const qc = useQueryClient();
  const me = useMe();
  const users = useUsers();
  const statuses = useStatuses();
  const [tag, setTag] = useState("");
  const m = useMutation({
    mutationFn: (body: Omit<BulkUpdate, "ticketIds">) =>
      api<{ updated?: number }>("POST", "/tickets/bulk", { body: { ticketIds: ids, ...body } }),
    onSuccess: () => {
      notifications.show({
        message: `Updated ${ids.length} ticket${ids.length === 1 ? "" : "s"}`,
        color: "teal",
      });
      qc.invalidateQueries({ queryKey: keys.tickets });
      onDone();
    },
    onError: (e) => notifications.show({ title: "Bulk update failed", message: e.message, color: "red" }),
  });
  const resolved = statuses.data?.find((s) => s.category === "resolved");
  const closed = statuses.data?.find((s) => s.category === "closed");
  return (
    <Paper px="sm" py={6} radius={0} style={{ borderWidth: "0 0 1px 0" }} data-testid="bulk-bar">
      <Group gap="xs">
        <Text fz="sm" fw={600}>
          {ids.length} selected
        </Text>
        <Button
          variant="light"
          loading={m.isPending}
          onClick={() => me.data && m.mutate({ assigneeId: me.data.id })}
        >
          Assign to me
        </Button>
        <Select
          size="xs"
          w={160}
          aria-label="Assign selected to"
          placeholder="Assign to…"
          searchable
          data={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
          value={null}
          onChange={(v) => v && m.mutate({ assigneeId: v })}
        />
        {resolved && (
          <Button variant="light" color="green" onClick={() => m.mutate({ statusId: resolved.id })}>
            Resolve
          </Button>
        )}
        {closed && (
          <Button variant="light" color="gray" onClick={() => m.mutate({ statusId: closed.id })}>
            Close
          </Button>
        )}
        <TextInput
          size="xs"
          w={120}
          aria-label="Tag to add"
          placeholder="Add tag"
          value={tag}
          onChange={(e) => setTag(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && tag.trim()) {
              m.mutate({ addTags: [tag.trim().toLowerCase()] });
              setTag("");
            }
          }}
        />
        <Button variant="subtle" color="gray" onClick={onDone}>
          Clear selection
        </Button>
      </Group>
    </Paper>
  );
}
