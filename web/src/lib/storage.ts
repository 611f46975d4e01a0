// This tab's storage: what a reload of the same tab should find again (its session id, the
// student's edits), and nothing another tab should share. Null where the browser refuses it.
export function storage(): Storage | null {
  try {
    return sessionStorage;
  } catch {
    return null;
  }
}
