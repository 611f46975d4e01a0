// What a workshop adds to the web server: the join link, the instructor's dashboard and its
// data, the instructor's actions (POSTs), and which session a terminal mirror watches.
// app.ts has already checked the Host; each answer here checks who is asking.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Broadcast, HoldRoom, ResetSeat } from '../protocol/workshop.ts';
import { readJson, TOO_LARGE } from './body.ts';
import type { Guard } from './guard.ts';
import type { Entry, Hub } from './hub.ts';
import { replayPlan } from '../course/playthrough.ts';
import { loadLesson } from '../lessons/load.ts';
import type { Room } from './room.ts';

const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

export function json(res: ServerResponse, data: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(data));
}

/** /join?code=…: a student's first visit (or a second one from the same browser). */
export function join(room: Room | undefined, guard: Guard, req: IncomingMessage, res: ServerResponse, code: string | null): void {
  if (!room || !guard.joinOk(code)) {
    return void res.writeHead(403, TEXT).end('This join link is not valid for this workshop: ask the instructor for the current one.\n这个加入链接对本次工作坊无效：请向讲师索取当前的链接。\n');
  }
  // Known already: the same seat again. Otherwise a new student, if the room has space.
  const known = room.student(guard.student(req));
  const joined = known ? null : room.join();
  if (!known && !joined) return void res.writeHead(503, TEXT).end('The workshop is full.\n工作坊已满。\n');
  const headers: Record<string, string | string[]> = { location: '/' };
  if (joined) headers['set-cookie'] = guard.setStudentCookies(joined.secret);
  res.writeHead(303, headers).end();
}

/**
 * /api/workshop and /api/workshop.csv for the instructor; 403 for a student, 404 without a
 * workshop. True when it answered; /dashboard itself, once allowed, is the page app.ts serves.
 */
export function dashboard(room: Room | undefined, instructor: boolean, path: string, res: ServerResponse): boolean {
  if (path !== '/dashboard' && !path.startsWith('/api/workshop')) return false;
  if (!room) res.writeHead(404).end();
  else if (!instructor) res.writeHead(403, TEXT).end("The dashboard is the instructor's.\n仪表盘只供讲师使用。\n");
  else if (path === '/api/workshop') json(res, room.view());
  else if (path === '/api/workshop.csv') {
    res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="stepbox-workshop.csv"', 'cache-control': 'no-store' });
    res.end(room.csv());
  } else if (path !== '/dashboard') res.writeHead(404).end();
  else return false;
  return true;
}

const ACTIONS = { '/api/workshop/broadcast': 'broadcast', '/api/workshop/reset': 'reset', '/api/workshop/hold': 'hold' } as const;

/**
 * The instructor's actions: the only requests that change anything outside a WebSocket.
 * Like an upgrade, they need the page's own Origin as well as the cookie, so no other site
 * can make a browser send one; the body is small JSON, checked by its schema.
 */
export function action(room: Room | undefined, hub: Hub, req: IncomingMessage, res: ServerResponse, path: string | null, allowed: { origin: boolean; instructor: boolean }, failed: (e: unknown) => void): void {
  const act = path && room ? ACTIONS[path as keyof typeof ACTIONS] : undefined;
  if (!act || !room) return void res.writeHead(405).end();
  if (!allowed.origin || !allowed.instructor) return void res.writeHead(403).end();
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) return void res.writeHead(415).end();
  const tell = (text: string) => {
    const notice = room.broadcast(text);
    for (const a of hub.attached()) a.notice(notice);
    return notice;
  };
  void readJson(req).then(async (body) => {
    // Answered at once, and the connection closed: the rest of the body is not read.
    if (body === TOO_LARGE) return void res.writeHead(413, { connection: 'close' }).end(() => req.destroy());
    try {
      if (act === 'broadcast') {
        const msg = Broadcast.safeParse(body);
        return msg.success ? json(res, tell(msg.data.text)) : void res.writeHead(400).end();
      }
      if (act === 'hold') {
        const msg = HoldRoom.safeParse(body);
        if (!msg.success) return void res.writeHead(400).end();
        room.holdAfter = msg.data.afterStep;
        tell(room.holdAfter === null ? 'Go on: the room is released. / 继续：可以往下做了。' : `Please wait after step ${room.holdAfter}. / 请在第 ${room.holdAfter} 步之后稍等。`);
        return json(res, { holdAfter: room.holdAfter });
      }
      const msg = ResetSeat.safeParse(body);
      if (!msg.success) return void res.writeHead(400).end();
      const student = room.byId(msg.data.student);
      if (!student) return void res.writeHead(404).end();
      const { upTo } = msg.data;
      const entry = student.entry ? hub.find(student.entry) : undefined;
      if (entry?.attachment) await entry.attachment.resetByInstructor(upTo);
      else {
        // Nobody is looking: the seat goes now, and a new one is built, up to the step asked
        // for, when they come back.
        const done = entry ? entry.play.progress() : student.progress;
        const lesson = entry?.lesson ?? (done ? loadLesson(done.lesson) : null);
        student.progress = lesson && upTo > 0 ? replayPlan(lesson, done, upTo) : null;
        student.progressBy = 'instructor';
        student.entry = null;
        if (entry) await hub.close(entry);
      }
      json(res, { reset: true, upTo });
    } catch (e) {
      failed(e);
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
}

/** The session a terminal mirror of `?student=<id>` watches, if that student has one. */
export function mirrored(room: Room | undefined, hub: Hub, studentId: string | null): Entry | undefined {
  const student = room?.byId(studentId ?? '');
  return student?.entry ? hub.find(student.entry) : undefined;
}
