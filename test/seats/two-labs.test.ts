// Two seated labs on one machine (two workshops on one VM): each claims its own block of
// ids while it runs. With another lab holding the first block, this lab's seat 0 is a
// different unprivileged user of the machine, as the kernel's own uid_map of the seat says.
import { afterAll, expect, it } from 'vitest';
import { claimIdRegion, type IdRegion } from '../../lab-server/src/session/id-region.ts';
import { Lab } from '../../lab-server/src/session/lab.ts';
import { DEFAULT_SEAT, ID_REGION, SEAT_ID_START, SEAT_IDS } from '../../lab-server/src/session/seat.ts';
import { kernel } from '../support/lab.ts';

let other: IdRegion | undefined;
let lab: Lab | undefined;

afterAll(async () => {
  await lab?.shutdown();
  await other?.release();
});

it("takes the next block of ids when another lab holds the first: seat 0s that do not meet", async () => {
  other = await claimIdRegion();
  expect(other.region).toBe(0);
  lab = await Lab.start({ seats: { ...DEFAULT_SEAT, idleMs: 0 } });
  const s = await lab.open({ cols: 80, rows: 24 });
  // "0 <first id> <count>": the seat's root, as the machine numbers it.
  const [inside, first, count] = kernel.read(`/proc/${s.seat!.init}/uid_map`).split(/\s+/).map(Number);
  console.log(`${s.seat!.name}: uid_map 0 ${first} ${count}`);
  expect(s.seat!.name).toBe('seat-0');
  expect([inside, first, count]).toEqual([0, SEAT_ID_START + ID_REGION, SEAT_IDS]);
  await lab.close(s);
}, 60_000);
