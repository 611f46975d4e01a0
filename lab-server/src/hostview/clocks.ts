// The host's clock and a time namespace's offset from it, as /proc prints them.

/** The first field of /proc/uptime (CLOCK_BOOTTIME), in seconds. */
export function parseUptime(text: string): number | null {
  const n = Number(text.trim().split(/\s+/)[0]);
  return text.trim() !== '' && Number.isFinite(n) ? n : null;
}

/** The boottime offset of /proc/<pid>/timens_offsets (`boottime <secs> <nanosecs>`), in seconds. */
export function boottimeOffset(text: string): number {
  const m = /^boottime\s+(-?\d+)\s+(\d+)/m.exec(text);
  return m ? Number(m[1]) + Number(m[2]) / 1e9 : 0;
}
