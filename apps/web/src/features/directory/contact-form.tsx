import { Button, Checkbox, Group, Modal, Select, Stack, TagsInput, Textarea, TextInput } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useLocation } from "wouter";
import { api, fieldErrors } from "../../api/client.ts";
import { useClients, useSites } from "../../api/hooks.ts";
import type { ContactDto } from "../../api/types.ts";
import { FormError } from "../admin/ui.tsx";

/** "New contact" (optionally for a client) or "Edit" (a contact). Phone numbers: one per entry. */
export function ContactFormButton({
  contact,
  clientId: presetClient,
}: {
  contact?: ContactDto;
  clientId?: string;
}) {
  const [opened, modal] = useDisclosure(false);
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const clients = useClients();
  const [clientId, setClientId] = useState<string | null>(null);
  const sites = useSites(clientId);
  const [siteId, setSiteId] = useState<string | null>(null);
  const [firstName, setFirst] = useState("");
  const [lastName, setLast] = useState("");
  const [title, setTitle] = useState("");
  const [emails, setEmails] = useState<string[]>([]);
  const [phones, setPhones] = useState<string[]>([]);
  const [vip, setVip] = useState(false);
  const [notes, setNotes] = useState("");
  const open = () => {
    setClientId(contact?.clientId ?? presetClient ?? null);
    setSiteId(contact?.siteId ?? null);
    setFirst(contact?.firstName ?? "");
    setLast(contact?.lastName ?? "");
    setTitle(contact?.title ?? "");
    setEmails(contact?.emails ?? []);
    setPhones(contact?.phones.map((p) => p.number) ?? []);
    setVip(contact?.vip ?? false);
    setNotes(contact?.notes ?? "");
    save.reset();
    modal.open();
  };
  const save = useMutation({
    mutationFn: () => {
      // Keep the labels of numbers that stay; new ones are work numbers.
      const labelOf = (n: string) => contact?.phones.find((p) => p.number === n)?.label ?? "work";
      const body = {
        siteId,
        firstName,
        lastName,
        title: title.trim() || null,
        emails,
        phones: phones.map((number) => ({ label: labelOf(number), number })),
        vip,
        notes,
      };
      return contact
        ? api<ContactDto>("PATCH", `/contacts/${contact.id}`, { body: { version: contact.version, ...body } })
        : api<ContactDto>("POST", "/contacts", { body: { clientId, ...body } });
    },
    onSuccess: (c) => {
      qc.invalidateQueries({ queryKey: ["contacts"] });
      qc.invalidateQueries({ queryKey: ["contact", c.id] });
      modal.close();
      if (!contact) navigate(`/contacts/${c.id}`);
    },
  });
  const errs = fieldErrors(save.error);
  const listError = (prefix: string) => Object.entries(errs).find(([k]) => k.startsWith(prefix))?.[1];
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const heading = contact ? `Edit ${contact.name}` : "New contact";
  return (
    <>
      <Button size="xs" variant={contact ? "default" : "filled"} onClick={open}>
        {contact ? "Edit contact" : "New contact"}
      </Button>
      <Modal
        opened={opened}
        onClose={modal.close}
        title={heading}
        closeButtonProps={{ "aria-label": "Close" }}
      >
        <form onSubmit={submit} aria-label={heading}>
          <Stack gap="sm">
            <Select
              label="Client"
              required
              searchable
              disabled={!!contact}
              data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
              value={clientId}
              onChange={(v) => {
                setClientId(v);
                setSiteId(null);
              }}
              error={errs.clientId}
            />
            <Group grow align="flex-start">
              <TextInput
                label="First name"
                required
                value={firstName}
                onChange={(e) => setFirst(e.currentTarget.value)}
                error={errs.firstName}
              />
              <TextInput
                label="Last name"
                value={lastName}
                onChange={(e) => setLast(e.currentTarget.value)}
                error={errs.lastName}
              />
            </Group>
            <TextInput
              label="Title"
              value={title}
              onChange={(e) => setTitle(e.currentTarget.value)}
              error={errs.title}
            />
            <TagsInput
              label="Emails"
              description="Press Enter after each."
              value={emails}
              onChange={setEmails}
              error={listError("emails")}
            />
            <TagsInput
              label="Phone numbers"
              description="Press Enter after each."
              value={phones}
              onChange={setPhones}
              error={listError("phones")}
            />
            <Select
              label="Site"
              clearable
              clearButtonProps={{ "aria-label": "Clear" }}
              disabled={!clientId}
              data={(sites.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
              value={siteId}
              onChange={setSiteId}
              error={errs.siteId}
            />
            <Checkbox label="VIP" checked={vip} onChange={(e) => setVip(e.currentTarget.checked)} />
            <Textarea
              label="Notes"
              value={notes}
              onChange={(e) => setNotes(e.currentTarget.value)}
              autosize
              minRows={2}
            />
            <FormError error={save.error} />
            <Group justify="flex-end" gap="xs">
              <Button size="xs" variant="default" onClick={modal.close}>
                Cancel
              </Button>
              <Button size="xs" type="submit" loading={save.isPending} disabled={!clientId}>
                {contact ? "Save" : "Create contact"}
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
