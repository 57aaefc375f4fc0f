import { Badge, Button, Group, TagsInput, Text } from "@mantine/core";
import { useState } from "react";
import { fieldErrors } from "../../api/client.ts";
import { useKnownTags, useSetDeviceTags } from "./api.ts";

/** The device's tags on its page: tag policies reach devices by them. Editable by anyone who may write. */
export function DeviceTags({
  deviceId,
  tags,
  canWrite,
}: {
  deviceId: string;
  tags: string[];
  canWrite: boolean;
}) {
  const [draft, setDraft] = useState<string[] | null>(null);
  const known = useKnownTags();
  const save = useSetDeviceTags(deviceId);
  const errors = fieldErrors(save.error);
  const error =
    errors.tags ?? Object.entries(errors).find(([k]) => k.startsWith("tags."))?.[1] ?? save.error?.message;
  if (draft === null)
    return (
      <Group gap={6} role="group" aria-label="Tags">
        <Text fz="xs" c="dimmed">
          Tags:
        </Text>
        {tags.length ? (
          tags.map((t) => (
            <Badge key={t} variant="light" color="gray" size="sm" tt="none">
              {t}
            </Badge>
          ))
        ) : (
          <Text fz="xs" c="dimmed">
            none
          </Text>
        )}
        {canWrite && (
          <Button size="compact-xs" variant="subtle" onClick={() => setDraft(tags)}>
            Edit tags
          </Button>
        )}
      </Group>
    );
  return (
    <Group
      component="form"
      gap="xs"
      align="flex-end"
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate(draft, { onSuccess: () => setDraft(null) });
      }}
    >
      <TagsInput
        label="Device tags"
        description="Lowercase letters, digits, . _ -; tag policies apply to the devices carrying their tag."
        data={known.data?.items ?? []}
        value={draft}
        onChange={setDraft}
        error={save.isError ? error : undefined}
        clearable
        w={420}
      />
      <Button type="submit" size="xs" loading={save.isPending}>
        Save tags
      </Button>
      <Button size="xs" variant="subtle" onClick={() => setDraft(null)}>
        Cancel
      </Button>
    </Group>
  );
}
