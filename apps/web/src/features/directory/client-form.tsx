import { Button, Group, Modal, Select, Stack, TagsInput, Textarea, TextInput } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useLocation } from "wouter";
import { api, fieldErrors } from "../../api/client.ts";
import type { ClientDto, SiteDto } from "../../api/types.ts";
import { FormError } from "../admin/ui.tsx";

const ZONES = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : ["UTC"];

/** "New client" (no client) or "Edit" (a client): name, phone, website, email domains, notes. */
export function ClientFormButton({ client }: { client?: ClientDto }) {
  const [opened, modal] = useDisclosure(false);
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const [name, setName] = useState("");
  const [phone, setPhone] = useState("");
  const [website, setWebsite] = useState("");
  const [domains, setDomains] = useState<string[]>([]);
  const [notes, setNotes] = useState("");
  const open = () => {
    setName(client?.name ?? "");
    setPhone(client?.phone ?? "");
    setWebsite(client?.website ?? "");
    setDomains(client?.emailDomains ?? []);
    setNotes(client?.notes ?? "");
    save.reset();
    modal.open();
  };
  const save = useMutation({
    mutationFn: () => {
      const body = {
        name,
        phone: phone.trim() || null,
        website: website.trim() || null,
        emailDomains: domains,
        notes,
      };
      return client
        ? api<ClientDto>("PATCH", `/clients/${client.id}`, { body: { version: client.version, ...body } })
        : api<ClientDto>("POST", "/clients", { body });
    },
    onSuccess: (c) => {
      qc.invalidateQueries({ queryKey: ["clients"] });
      qc.invalidateQueries({ queryKey: ["client", c.id] });
      modal.close();
      if (!client) navigate(`/clients/${c.id}`);
    },
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const title = client ? `Edit ${client.name}` : "New client";
  return (
    <>
      <Button size="xs" variant={client ? "default" : "filled"} onClick={open}>
        {client ? "Edit client" : "New client"}
      </Button>
      <Modal opened={opened} onClose={modal.close} title={title} closeButtonProps={{ "aria-label": "Close" }}>
        <form onSubmit={submit} aria-label={title}>
          <Stack gap="sm">
            <TextInput
              label="Name"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={errs.name}
            />
            <TextInput
              label="Phone"
              value={phone}
              onChange={(e) => setPhone(e.currentTarget.value)}
              error={errs.phone}
            />
            <TextInput
              label="Website"
              value={website}
              onChange={(e) => setWebsite(e.currentTarget.value)}
              error={errs.website}
            />
            <TagsInput
              label="Email domains"
              description="Mail from an unknown address at these domains becomes a new contact of this client. Press Enter after each."
              value={domains}
              onChange={setDomains}
              error={Object.entries(errs).find(([k]) => k.startsWith("emailDomains"))?.[1]}
            />
            <Textarea
              label="Notes"
              value={notes}
              onChange={(e) => setNotes(e.currentTarget.value)}
              autosize
              minRows={2}
              error={errs.notes}
            />
            <FormError error={save.error} />
            <Group justify="flex-end" gap="xs">
              <Button size="xs" variant="default" onClick={modal.close}>
                Cancel
              </Button>
              <Button size="xs" type="submit" loading={save.isPending}>
                {client ? "Save" : "Create client"}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}

/** "Add site" (no site) or "Edit" (a site) on a client's page. */
export function SiteFormButton({ clientId, site }: { clientId: string; site?: SiteDto }) {
  const [opened, modal] = useDisclosure(false);
  const qc = useQueryClient();
  const [f, setF] = useState<Record<string, string>>({});
  const [timezone, setTimezone] = useState("UTC");
  const open = () => {
    setF({
      name: site?.name ?? "",
      addressLine1: site?.addressLine1 ?? "",
      addressLine2: site?.addressLine2 ?? "",
      city: site?.city ?? "",
      region: site?.region ?? "",
      postalCode: site?.postalCode ?? "",
      country: site?.country ?? "",
      phone: site?.phone ?? "",
    });
    setTimezone(site?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? "UTC");
    save.reset();
    modal.open();
  };
  const save = useMutation({
    mutationFn: () => {
      const body: Record<string, unknown> = { timezone };
      for (const [k, v] of Object.entries(f)) body[k] = k === "name" ? v : v.trim() || null;
      return site
        ? api<SiteDto>("PATCH", `/sites/${site.id}`, { body: { version: site.version, ...body } })
        : api<SiteDto>("POST", `/clients/${clientId}/sites`, { body });
    },
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["sites", clientId] });
      modal.close();
    },
  });
  const errs = fieldErrors(save.error);
  const field = (key: string, label: string, required = false) => (
    <TextInput
      label={label}
      required={required}
      value={f[key] ?? ""}
      onChange={(e) => {
        const v = e.currentTarget.value;
        setF((old) => ({ ...old, [key]: v }));
      }}
      error={errs[key]}
    />
  );
  const title = site ? `Edit ${site.name}` : "Add a site";
  return (
    <>
      <Button
        size="compact-xs"
        variant="default"
        onClick={open}
        aria-label={site ? `Edit site ${site.name}` : undefined}
      >
        {site ? "Edit" : "Add site"}
      </Button>
      <Modal opened={opened} onClose={modal.close} title={title} closeButtonProps={{ "aria-label": "Close" }}>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            save.mutate();
          }}
          aria-label={title}
        >
          <Stack gap="sm">
            {field("name", "Name", true)}
            {field("addressLine1", "Address")}
            {field("addressLine2", "Address line 2")}
            <Group grow>
              {field("city", "City")}
              {field("region", "State / region")}
            </Group>
            <Group grow>
              {field("postalCode", "Postal code")}
              {field("country", "Country")}
            </Group>
            {field("phone", "Phone")}
            <Select
              label="Time zone"
              searchable
              data={ZONES}
              value={timezone}
              onChange={(v) => v && setTimezone(v)}
              allowDeselect={false}
              error={errs.timezone}
            />
            <FormError error={save.error} />
            <Group justify="flex-end" gap="xs">
              <Button size="xs" variant="default" onClick={modal.close}>
                Cancel
              </Button>
              <Button size="xs" type="submit" loading={save.isPending}>
                {site ? "Save" : "Add site"}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
