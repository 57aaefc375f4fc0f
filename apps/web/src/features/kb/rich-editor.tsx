import { Box, Button, FileButton, Group, Paper } from "@mantine/core";
import { useEffect, useRef } from "react";
import { safeNodes } from "../../shared/safe-html.tsx";

/**
 * A small rich-text editor: the browser's contentEditable with a toolbar for headings, emphasis, lists,
 * links, code blocks and images (uploaded to the article). What it produces is sanitised by the server
 * when saved, so the editor needs no trust of its own.
 */
export function RichEditor({
  initial,
  onChange,
  uploadTo,
  label,
}: {
  initial: string;
  onChange: (html: string) => void;
  /** `/kb/articles/<id>/files`: where images go (none until the article exists). */
  uploadTo?: string;
  label: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  // Only the first value: afterwards the editor owns its content.
  const first = useRef(initial);
  useEffect(() => {
    ref.current?.replaceChildren(...safeNodes(first.current));
  }, []);
  const exec = (cmd: string, value?: string) => {
    ref.current?.focus();
    document.execCommand(cmd, false, value);
    onChange(ref.current?.innerHTML ?? "");
  };
  const codeBlock = () => {
    const text = window.getSelection()?.toString() || "code";
    const pre = document.createElement("pre");
    const code = document.createElement("code");
    code.textContent = text;
    pre.appendChild(code);
    exec("insertHTML", pre.outerHTML);
  };
  const image = async (file: File | null) => {
    if (!file || !uploadTo) return;
    const form = new FormData();
    form.append("file", file);
    const res = await fetch(`/api/v1${uploadTo}`, { method: "POST", body: form, credentials: "same-origin" });
    if (!res.ok) return;
    const { url } = (await res.json()) as { url: string };
    exec("insertImage", url);
  };
  return (
    <Paper withBorder>
      <Group gap={4} p={4} style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}>
        <Button size="compact-xs" variant="subtle" onClick={() => exec("formatBlock", "h2")}>
          Heading
        </Button>
        <Button size="compact-xs" variant="subtle" onClick={() => exec("bold")}>
          Bold
        </Button>
        <Button size="compact-xs" variant="subtle" onClick={() => exec("italic")}>
          Italic
        </Button>
        <Button size="compact-xs" variant="subtle" onClick={() => exec("insertUnorderedList")}>
          List
        </Button>
        <Button size="compact-xs" variant="subtle" onClick={() => exec("insertOrderedList")}>
          Steps
        </Button>
        <Button size="compact-xs" variant="subtle" onClick={codeBlock}>
          Code block
        </Button>
        <Button
          size="compact-xs"
          variant="subtle"
          onClick={() => {
            const url = window.prompt("Link address (https://…)");
            if (url) exec("createLink", url);
          }}
        >
          Link
        </Button>
        {uploadTo && (
          <FileButton onChange={image} accept="image/png,image/jpeg,image/gif,image/webp">
            {(props) => (
              <Button {...props} size="compact-xs" variant="subtle">
                Image
              </Button>
            )}
          </FileButton>
        )}
      </Group>
      <Box
        ref={ref}
        contentEditable
        role="textbox"
        aria-multiline="true"
        aria-label={label}
        tabIndex={0}
        p="sm"
        mih={240}
        onInput={() => onChange(ref.current?.innerHTML ?? "")}
        style={{ outline: "none" }}
      />
    </Paper>
  );
}
