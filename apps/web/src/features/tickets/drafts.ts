import { useState } from "react";

const PREFIX = "sb-draft:";

function read(key: string): string {
  try {
    return localStorage.getItem(key) ?? "";
  } catch {
    return "";
  }
}

/**
 * A draft that survives a reload, a lost connection and a refused save: kept in localStorage per key.
 * The key is read during render (not in an effect), so switching reply/note never shows one mode's
 * text under the other's key, even for a keystroke.
 */
export function useDraft(key: string): [string, (v: string) => void, () => void] {
  const storageKey = PREFIX + key;
  const [state, setState] = useState(() => ({ key: storageKey, value: read(storageKey) }));
  const value = state.key === storageKey ? state.value : read(storageKey);
  const set = (v: string) => {
    setState({ key: storageKey, value: v });
    try {
      if (v) localStorage.setItem(storageKey, v);
      else localStorage.removeItem(storageKey);
    } catch {
      // Storage full or disabled: the draft still lives in memory for this page.
    }
  };
  return [value, set, () => set("")];
}
