import { Select } from "@mantine/core";
import { useClients, useSites } from "../../api/hooks.ts";

/**
 * For a ping, TCP or HTTP check: the site whose connection (router, internet line) it watches. When the
 * check fires, that site's outage is one incident and one P1 at once. The site may be another client's
 * (a probe at the office watching a client's line), so the client is chosen first.
 */
export function UplinkPicker({
  clientId,
  siteId,
  onChange,
  error,
}: {
  clientId: string | null;
  siteId: string | null;
  onChange: (v: { clientId: string | null; siteId: string | null }) => void;
  error?: string;
}) {
  const clients = useClients();
  const sites = useSites(clientId);
  return (
    <>
      <Select
        label="Watches the connection of"
        placeholder="No site (an ordinary check)"
        searchable
        clearable
        data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
        value={clientId}
        onChange={(v) => onChange({ clientId: v, siteId: null })}
        w={220}
      />
      <Select
        label="Site"
        placeholder={clientId ? "Choose the site" : "Choose a client first"}
        clearable
        disabled={!clientId}
        data={(sites.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
        value={siteId}
        onChange={(v) => onChange({ clientId, siteId: v })}
        error={error}
        w={200}
      />
    </>
  );
}
