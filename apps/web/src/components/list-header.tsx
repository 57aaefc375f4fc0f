import { Group, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";

/** A list page's search: what is typed, and the trimmed query to fetch with once typing pauses. */
export function useListSearch() {
  const [q, setQ] = useState("");
  const [debounced] = useDebouncedValue(q.trim(), 200);
  return { q, setQ, debounced };
}

/** A list page's title with its search box. */
export function ListHeader(props: {
  title: string;
  searchLabel: string;
  placeholder: string;
  q: string;
  setQ: (q: string) => void;
}) {
  return (
    <Group justify="space-between" mb="sm">
      <Title order={1}>{props.title}</Title>
      <TextInput
        aria-label={props.searchLabel}
        placeholder={props.placeholder}
        value={props.q}
        onChange={(e) => props.setQ(e.currentTarget.value)}
        w={260}
      />
    </Group>
  );
}
