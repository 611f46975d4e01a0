// The engine as one object: what this machine's cgroups look like, the sessions it runs,
// and the promise that every one of them is reaped.
import { chmodSync, mkdirSync } from 'node:fs';
import { detectCgroups } from '../cgroup/detect.ts';
import { CgroupTree } from '../cgroup/tree.ts';
import type { TermSize } from '../helper/client.ts';
import { imageExists } from '../rootfs/images.ts';
import { RUNTIME_DIR, sessionName } from './paths.ts';
import { reapAll } from './reap.ts';
import { Session } from './session.ts';

export interface LabOptions {
  image?: string;
  /** A path inside every cgroup hierarchy to put sessions under, instead of `<own>/stepbox`. */
  cgroupParent?: string;
  idmapBase?: number;
}

export class Lab {
  readonly cgroups: CgroupTree;
  readonly image: string;
  private sessions = new Set<Session>();
  private counter = 0;

  private constructor(private readonly opts: LabOptions) {
    this.cgroups = new CgroupTree(detectCgroups(), opts.cgroupParent);
    this.image = opts.image ?? 'busybox';
  }

  /** Start the engine: reap what a killed server left behind first. */
  static async start(opts: LabOptions = {}): Promise<Lab> {
    if (process.getuid?.() !== 0) throw new Error('stepbox must run as root: it creates namespaces, cgroups and mounts');
    const lab = new Lab(opts);
    if (!imageExists(lab.image)) throw new Error(`the ${lab.image} image is not built: run sh rootfs-images/build.sh ${lab.image}`);
    await reapAll(lab.cgroups);
    mkdirSync(RUNTIME_DIR, { recursive: true, mode: 0o711 });
    chmodSync(RUNTIME_DIR, 0o711);
    return lab;
  }

  async open(size: TermSize = { cols: 100, rows: 30 }): Promise<Session> {
    const session = await Session.open({ name: sessionName(++this.counter), image: this.image, cgroups: this.cgroups, size, idmapBase: this.opts.idmapBase });
    this.sessions.add(session);
    return session;
  }

  /** A session stays listed until its reap is done, so shutdown waits for every reap under way. */
  async close(session: Session): Promise<void> {
    try {
      await session.reap();
    } finally {
      this.sessions.delete(session);
    }
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.sessions].map((s) => this.close(s)));
    await reapAll(this.cgroups);
  }
}
