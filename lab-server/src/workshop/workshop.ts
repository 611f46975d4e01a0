// A workshop: one lab, a room of students each in a seat, and an instructor. It holds the
// join code and the roster; the web server asks it who a request is and answers the
// instructor's dashboard from it.
import { randomBytes } from 'node:crypto';
import type { Hub } from '../server/hub.ts';
import type { Room } from '../server/room.ts';
import type { Notice, WorkshopView } from '../protocol/workshop.ts';
import { Dashboard } from './dashboard.ts';
import { qrSvg } from './qr.ts';
import { Roster } from './roster.ts';

export class Workshop implements Room {
  /** What a student's join link carries: enough to join, nothing more. */
  readonly joinCode = randomBytes(12).toString('base64url');
  readonly roster = new Roster();
  private dashboard: Dashboard | null = null;
  notice: Notice | null = null;
  holdAfter: number | null = null;

  constructor(
    readonly title: string,
    /** The TLS certificate's fingerprint, shown to students who must accept it. */
    readonly fingerprint: string | null,
  ) {}

  /** Once the server listens and its address is known. */
  async opened(hub: Hub, origin: string): Promise<{ joinUrl: string }> {
    const joinUrl = `${origin}/join?code=${this.joinCode}`;
    this.dashboard = new Dashboard(hub, this.roster, { title: this.title, joinUrl, fingerprint: this.fingerprint, qrSvg: await qrSvg(joinUrl) });
    return { joinUrl };
  }

  private get board(): Dashboard {
    if (!this.dashboard) throw new Error('the workshop has not opened');
    return this.dashboard;
  }

  student(secret: string | null | undefined) {
    return this.roster.get(secret);
  }

  join(): { secret: string } | null {
    return this.roster.join();
  }

  view(): WorkshopView {
    return { ...this.board.view(), holdAfter: this.holdAfter };
  }

  csv(): string {
    return this.board.csv();
  }

  broadcast(text: string): Notice {
    this.notice = { text, at: Date.now() };
    return this.notice;
  }

  byId(id: string) {
    return this.roster.byId(id);
  }
}
