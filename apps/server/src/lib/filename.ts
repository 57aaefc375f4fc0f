/**
 * A file name as given by a browser upload or a mail attachment, made safe to store, show and offer
 * for download: the last path part only (no `../`, no drive letters), without control characters and
 * without the invisible direction overrides that make `invoice_gpj.exe` read as `invoice_exe.jpg` (nor
 * zero-width characters),
 * trimmed, and at most 200 characters with the extension kept. Never empty.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const MAX = 200;

export function safeFileName(name: string | null | undefined, fallback = "attachment"): string {
  let n = (name ?? "").replace(UNSAFE, "");
  n = n.split(/[/\\]/).pop() ?? "";
  n = n.replace(/^[\s.]+|[\s.]+$/g, "");
  if (!n) return fallback;
  if (n.length > MAX) {
    const dot = n.lastIndexOf(".");
    const ext = dot > 0 && n.length - dot <= 16 ? n.slice(dot) : "";
    n = n.slice(0, MAX - ext.length) + ext;
  }
  return n;
}
