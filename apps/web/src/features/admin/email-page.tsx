import { Section } from "../../components/section.tsx";
import { Mailboxes } from "./email-mailboxes.tsx";
import { Quarantine } from "./email-quarantine.tsx";
import { RelaySettings } from "./email-relay.tsx";
import { ClientFromAddresses, Templates } from "./email-templates.tsx";
import { AdminPage } from "./ui.tsx";

export function EmailPage() {
  return (
    <AdminPage title="Email" intro="Where mail comes in, how it goes out, what it says, and what is held.">
      <Section id="email-outbound" title="Outbound mail">
        <RelaySettings />
      </Section>
      <Section id="email-mailboxes" title="Mailboxes">
        <Mailboxes />
      </Section>
      <Section id="email-from" title="Client From addresses">
        <ClientFromAddresses />
      </Section>
      <Section id="email-templates" title="Templates">
        <Templates />
      </Section>
      <Section id="email-held" title="Held and failed mail">
        <Quarantine />
      </Section>
    </AdminPage>
  );
}
