import { Kbd, Modal, Table } from "@mantine/core";

export const SHORTCUTS: Array<[string[], string]> = [
  [["j"], "Next row in a list"],
  [["k"], "Previous row in a list"],
  [["Enter"], "Open the highlighted ticket"],
  [["x"], "Select the highlighted row (bulk actions)"],
  [["r"], "Reply on the open ticket"],
  [["n"], "Internal note on the open ticket"],
  [["c"], "Log a call on the open ticket"],
  [["a"], "Assign the ticket to me"],
  [["e"], "Resolve the ticket"],
  [["i"], "Phone intake (new call)"],
  [["/"], "Search"],
  [["Ctrl", "K"], "Search"],
  [["Ctrl", "Enter"], "Send the composer"],
  [["Esc"], "Leave a field or close a dialog"],
  [["?"], "Show this list"],
];

export function ShortcutsModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  return (
    <Modal opened={opened} onClose={onClose} title="Keyboard shortcuts" size="sm">
      <Table>
        <Table.Tbody>
          {SHORTCUTS.map(([k, what]) => (
            <Table.Tr key={what + k.join()}>
              <Table.Td w={110}>
                {k.map((key) => (
                  <Kbd key={key} mr={4}>
                    {key}
                  </Kbd>
                ))}
              </Table.Td>
              <Table.Td>{what}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Modal>
  );
}
