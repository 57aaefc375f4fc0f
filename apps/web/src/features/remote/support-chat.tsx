import { Anchor, Button, FileButton, Group, ScrollArea, Stack, Text, TextInput } from "@mantine/core";
import type { SupportEventDto } from "@switchboard/shared";
import { type FormEvent, useEffect, useRef, useState } from "react";

/** The session's record as it happens (chat, consents, files), with a message box and a file button. */
export function SupportChat({
  events,
  me,
  otherName,
  onSend,
  onFile,
  fileHref,
  disabled,
}: {
  events: SupportEventDto[];
  me: "technician" | "caller";
  otherName: string;
  onSend: (text: string) => void;
  onFile: (file: File) => void;
  /** A link for a file event (the caller downloads with its token, so it gets a click handler instead). */
  fileHref: (e: SupportEventDto) => { href?: string; onClick?: () => void };
  disabled: boolean;
}) {
  const [text, setText] = useState("");
  const bottom = useRef<HTMLDivElement>(null);
  const count = events.length;
  // biome-ignore lint/correctness/useExhaustiveDependencies: scrolls when a new entry arrives
  useEffect(() => {
    bottom.current?.scrollIntoView({ block: "end" });
  }, [count]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!text.trim()) return;
    onSend(text.trim());
    setText("");
  };
  return (
    <Stack gap="xs" h="100%">
      <ScrollArea h={280} type="auto" aria-label="Chat and session record" role="log">
        <Stack gap={4} p="xs">
          {events.map((e) => (
            <div key={e.id} data-testid={`event-${e.kind}`}>
              {e.kind === "chat" ? (
                <Text fz="sm">
                  <Text span fw={600}>
                    {e.actor === me ? "You" : otherName}:
                  </Text>{" "}
                  {e.body}
                </Text>
              ) : e.kind === "file" ? (
                <Text fz="sm">
                  {e.body} ·{" "}
                  <Anchor fz="sm" {...fileHref(e)}>
                    download
                  </Anchor>
                </Text>
              ) : (
                <Text fz="xs" c="dimmed">
                  {e.body}
                </Text>
              )}
            </div>
          ))}
          <div ref={bottom} />
        </Stack>
      </ScrollArea>
      <form onSubmit={submit}>
        <Group gap="xs" wrap="nowrap">
          <TextInput
            aria-label="Message"
            placeholder="Type a message"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            disabled={disabled}
            style={{ flex: 1 }}
            maxLength={2000}
          />
          <Button type="submit" disabled={disabled || !text.trim()}>
            Send
          </Button>
          <FileButton onChange={(f) => f && onFile(f)} disabled={disabled}>
            {(props) => (
              <Button variant="default" {...props} disabled={disabled}>
                Send a file
              </Button>
            )}
          </FileButton>
        </Group>
      </form>
    </Stack>
  );
}
