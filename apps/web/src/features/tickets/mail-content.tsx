import { Anchor, Box, Button, Group, Image, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import type { TimelineEntryDto } from "../../api/types.ts";

// What a customer sent is shown, never run: their HTML (already sanitised to an allow-list on the
// server) goes into a frame with an empty origin and no scripts, and files preview inline only as
// images (an <img> runs nothing) or PDFs in a sandboxed frame.

const FRAME_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

export function frameDocument(html: string) {
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${FRAME_CSP}"><base target="_blank"><style>body{font:14px/1.45 system-ui,sans-serif;margin:8px;color:#1a1b1e;background:#fff;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}</style></head><body>${html}</body></html>`;
}

/** The customer's formatted email, on demand, inside a sandboxed frame (no scripts, no same-origin). */
export function FormattedEmail({ emailId }: { emailId: string }) {
  const [open, setOpen] = useState(false);
  const q = useQuery({
    queryKey: ["email-content", emailId],
    queryFn: () => get<{ html: string | null }>(`/email/messages/${emailId}/content`),
    enabled: open,
    staleTime: Infinity,
  });
  return (
    <Box mt={6}>
      <Button size="compact-xs" variant="subtle" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
        {open ? "Hide formatted email" : "Show formatted email"}
      </Button>
      {open && q.data?.html && (
        <iframe
          title="Formatted email from the customer"
          // Empty origin, no scripts, no forms: links may open in a new tab, outside the sandbox.
          sandbox="allow-popups allow-popups-to-escape-sandbox"
          referrerPolicy="no-referrer"
          srcDoc={frameDocument(q.data.html)}
          data-testid="email-frame"
          style={{
            display: "block",
            width: "100%",
            height: 320,
            marginTop: 6,
            border: "1px solid var(--mantine-color-default-border)",
            borderRadius: 4,
            background: "#fff",
          }}
        />
      )}
      {open && q.isError && (
        <Text fz="xs" c="red.8" role="alert">
          {q.error.message}
        </Text>
      )}
    </Box>
  );
}

const PREVIEW_IMAGE = /^image\/(png|jpeg|gif|webp|bmp)$/i;

type Attachment = TimelineEntryDto["attachments"][number];

function PdfPreview({ a }: { a: Attachment }) {
  const [open, setOpen] = useState(false);
  return (
    <Box w="100%">
      <Button size="compact-xs" variant="subtle" onClick={() => setOpen((o) => !o)} aria-expanded={open}>
        {open ? `Hide ${a.filename}` : `Preview ${a.filename}`}
      </Button>
      {open && (
        <iframe
          title={`Preview of ${a.filename}`}
          sandbox=""
          src={`/api/v1/attachments/${a.id}?disposition=inline`}
          data-testid="pdf-frame"
          style={{
            display: "block",
            width: "100%",
            height: 420,
            border: "1px solid var(--mantine-color-default-border)",
          }}
        />
      )}
    </Box>
  );
}

/** Files under an entry: images as thumbnails, PDFs with a preview, everything downloadable. */
export function Attachments({ items }: { items: Attachment[] }) {
  if (items.length === 0) return null;
  return (
    <Group gap="xs" mt={6} align="flex-start">
      {items.map((a) => (
        <Box key={a.id} maw="100%">
          {PREVIEW_IMAGE.test(a.contentType) && (
            <Anchor href={`/api/v1/attachments/${a.id}?disposition=inline`} target="_blank" rel="noopener">
              <Image
                src={`/api/v1/attachments/${a.id}?disposition=inline`}
                alt={a.filename}
                mah={160}
                maw={240}
                fit="contain"
                radius="sm"
                loading="lazy"
                data-testid="attachment-image"
              />
            </Anchor>
          )}
          <Anchor href={`/api/v1/attachments/${a.id}`} fz="xs" style={{ overflowWrap: "anywhere" }}>
            📎 {a.filename} ({Math.ceil(a.sizeBytes / 1024)} KB)
          </Anchor>
          {a.contentType === "application/pdf" && <PdfPreview a={a} />}
        </Box>
      ))}
    </Group>
  );
}
