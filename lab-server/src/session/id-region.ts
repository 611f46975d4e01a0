// Which block of seat ids this lab may use. Seats take their ids from 2^28 up, one block of
// SEAT_IDS per slot, and slots are numbered by each lab: two seated labs on one machine
// would otherwise give their seat 0s the same ids. Each lab claims a region of its own for
// as long as it runs, by binding an abstract unix socket named after it: the kernel lets one
// process hold a name, frees it when that process dies however it dies, and leaves no file.
import { createServer, type Server } from 'node:net';
import { ID_REGIONS } from './seat.ts';

export interface IdRegion {
  readonly region: number;
  release(): Promise<void>;
}

/** The lowest region no other lab (of this network namespace) holds now. */
export async function claimIdRegion(): Promise<IdRegion> {
  for (let region = 0; region < ID_REGIONS; region++) {
    const server = await bind(`\0stepbox-seat-ids-${region}`);
    if (server) return { region, release: () => new Promise<void>((ok) => server.close(() => ok())) };
  }
  throw new Error(`every one of the ${ID_REGIONS} blocks of seat ids is held by another stepbox on this machine: stop one first`);
}

function bind(name: string): Promise<Server | null> {
  return new Promise((ok, fail) => {
    const server = createServer((c) => c.destroy());
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? ok(null) : fail(e)));
    // Held, not waited on: the lab's own work decides when the process may exit.
    server.listen({ path: name }, () => ok(server.unref()));
  });
}
