import { Button, Checkbox, Group, Stack, Text, TextInput } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { ContactIdentityDto } from "@switchboard/shared";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { identityKeys } from "./verify-caller.tsx";

/** The contact's verification details: where codes go, approver, admin account, directory account. */
export function ContactDetails({ contact }: { contact: ContactIdentityDto }) {
  const [opened, { toggle }] = useDisclosure(false);
  return (
    <Stack gap={4}>
      <Group gap="xs">
        <Text size="sm" c="dimmed">
          Mobile {contact.smsNumber ?? "none"} · email {contact.email ?? "none"} · authenticator{" "}
          {contact.totp}
          {contact.approver ? " · approver" : ""} · account {contact.directoryAccount ?? "not linked"}
        </Text>
        <Button size="compact-xs" variant="subtle" onClick={toggle} aria-expanded={opened}>
          {opened ? "Close" : "Edit details"}
        </Button>
      </Group>
      {opened && <DetailsForm contact={contact} onDone={toggle} />}
    </Stack>
  );
}

export function useSaveContactIdentity(contactId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: {
      smsNumber: string | null;
      email: string | null;
      approver: boolean;
      adminAccount: boolean;
      directoryAccount: string | null;
      version: number;
    }) => api<ContactIdentityDto>("PUT", `/contacts/${contactId}/identity`, { body }),
    onSuccess: (c) => qc.setQueryData(identityKeys.contact(contactId), c),
  });
}

function DetailsForm({ contact, onDone }: { contact: ContactIdentityDto; onDone: () => void }) {
  const [sms, setSms] = useState(contact.smsNumber ?? "");
  const [email, setEmail] = useState(contact.email ?? "");
  const [account, setAccount] = useState(contact.directoryAccount ?? "");
  const [approver, setApprover] = useState(contact.approver);
  const [admin, setAdmin] = useState(contact.adminAccount);
  const save = useSaveContactIdentity(contact.contactId);
  const errors = fieldErrors(save.error);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        // The dialog is rendered in a portal, but React bubbles its submit to forms around the button
        // that opened it (phone intake's): keep it here.
        e.stopPropagation();
        save.mutate(
          {
            smsNumber: sms.trim() || null,
            email: email.trim() || null,
            approver,
            adminAccount: admin,
            directoryAccount: account.trim() || null,
            version: contact.version,
          },
          { onSuccess: onDone },
        );
      }}
    >
      <Stack gap="xs">
        <Group grow>
          <TextInput
            label="Mobile for SMS codes"
            placeholder="+15175550123"
            value={sms}
            onChange={(e) => setSms(e.currentTarget.value)}
            error={errors.smsNumber}
          />
          <TextInput
            label="Email for codes"
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={errors.email}
          />
        </Group>
        <TextInput
          label="Directory account (sAMAccountName or UPN)"
          value={account}
          onChange={(e) => setAccount(e.currentTarget.value)}
          error={errors.directoryAccount}
        />
        <Group>
          <Checkbox
            label="Approves other contacts' verifications"
            checked={approver}
            onChange={(e) => setApprover(e.currentTarget.checked)}
          />
          <Checkbox
            label="Has an admin account (needs the stronger policy)"
            checked={admin}
            onChange={(e) => setAdmin(e.currentTarget.checked)}
          />
        </Group>
        {save.error && !Object.keys(errors).length && (
          <Text c="red" size="sm">
            {(save.error as Error).message}
          </Text>
        )}
        <Group>
          <Button type="submit" size="xs" loading={save.isPending}>
            Save details
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
