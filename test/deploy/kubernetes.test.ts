// The Kubernetes manifests of deploy/kubernetes, checked as an API server would before
// applying them: core objects against the Kubernetes OpenAPI schemas (kubernetes-models),
// KubeVirt's VirtualMachine against the fields of its v1 API that these files use (strict:
// a misspelt field fails, as `kubectl apply --validate=strict` would). Then what ties them
// together: selectors that find the VM, the port the lab listens on, cloud-init that parses
// and asks the lab for flags it really has, and nothing privileged.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Namespace, Service } from 'kubernetes-models/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

const DIR = 'deploy/kubernetes';

/** kubevirt.io/v1 VirtualMachine, the parts these manifests use (KubeVirt API reference, core/v1). */
const Disk = z.object({ name: z.string(), disk: z.object({ bus: z.enum(['virtio', 'sata', 'scsi', 'usb']) }).strict() }).strict();
const Volume = z.union([
  z.object({ name: z.string(), containerDisk: z.object({ image: z.string().regex(/^[a-z0-9.-]+\/[a-z0-9./-]+:[\w.-]+$/) }).strict() }).strict(),
  z.object({ name: z.string(), cloudInitNoCloud: z.object({ userData: z.string() }).strict() }).strict(),
]);
const Labels = z.record(z.string(), z.string());
const VirtualMachine = z
  .object({
    apiVersion: z.literal('kubevirt.io/v1'),
    kind: z.literal('VirtualMachine'),
    metadata: z.object({ name: z.string(), namespace: z.string(), labels: Labels.optional() }).strict(),
    spec: z
      .object({
        runStrategy: z.enum(['Always', 'RerunOnFailure', 'Manual', 'Halted', 'Once']),
        template: z
          .object({
            metadata: z.object({ labels: Labels }).strict(),
            spec: z
              .object({
                domain: z
                  .object({
                    cpu: z.object({ cores: z.number().int().positive() }).strict(),
                    resources: z.object({ requests: z.object({ memory: z.string().regex(/^\d+(Mi|Gi)$/) }).strict() }).strict(),
                    devices: z.object({ disks: z.array(Disk), interfaces: z.array(z.object({ name: z.string(), masquerade: z.object({}).strict() }).strict()) }).strict(),
                  })
                  .strict(),
                networks: z.array(z.object({ name: z.string(), pod: z.object({}).strict() }).strict()),
                volumes: z.array(Volume),
              })
              .strict(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();
type VirtualMachine = z.infer<typeof VirtualMachine>;

const docs = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((file) => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => ({ file, errors: d.errors, obj: d.toJS() as { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } })));
const of = <T>(kind: string) => docs.filter((d) => d.obj.kind === kind).map((d) => d.obj as unknown as T);

describe('deploy/kubernetes', () => {
  it('is YAML, and every object is valid for its API', () => {
    expect(docs.length).toBeGreaterThanOrEqual(4);
    for (const { file, errors, obj } of docs) {
      expect(errors, file).toEqual([]);
      const where = `${file}: ${obj.kind} ${obj.metadata.name}`;
      const check = () => {
        if (obj.kind === 'Namespace') return new Namespace(obj as never).validate();
        if (obj.kind === 'Service') return new Service(obj as never).validate();
        if (obj.kind === 'NetworkPolicy') return new NetworkPolicy(obj as never).validate();
        if (obj.kind === 'VirtualMachine') return void VirtualMachine.parse(obj);
        throw new Error(`no schema for ${obj.apiVersion} ${obj.kind}`);
      };
      expect(check, where).not.toThrow();
      if (obj.kind !== 'Namespace') expect(obj.metadata.namespace, where).toBe('stepbox');
    }
  });

  it('a schema check that can fail: a misspelt field or a bad port is refused', () => {
    const vm = of<VirtualMachine>('VirtualMachine')[0]!;
    expect(() => VirtualMachine.parse({ ...vm, spec: { ...vm.spec, runstrategy: 'Always' } })).toThrow();
    const svc = of<object>('Service')[0]!;
    expect(() => new Service({ ...svc, spec: { ports: [{ port: 'https' }] } } as never).validate()).toThrow();
  });

  it("each VM's Service and the network policy find the VM, on the port the lab listens on", () => {
    const vms = of<VirtualMachine>('VirtualMachine');
    expect(vms.length).toBeGreaterThan(0);
    const policy = of<{ spec: { podSelector: { matchLabels: Record<string, string> }; ingress: { ports: { port: number }[] }[] } }>('NetworkPolicy')[0]!;
    for (const vm of vms) {
      const labels = vm.spec.template.metadata.labels;
      const svc = of<{ metadata: { name: string }; spec: { selector: Record<string, string>; ports: { targetPort: number }[] } }>('Service').find((s) => s.metadata.name === vm.metadata.name);
      expect(svc, `a Service for ${vm.metadata.name}`).toBeDefined();
      expect(labels).toMatchObject(svc!.spec.selector);
      expect(labels).toMatchObject(policy.spec.podSelector.matchLabels);
      const port = Number(/--port (\d+)/.exec(userData(vm))?.[1] ?? 8443);
      expect(svc!.spec.ports.map((p) => p.targetPort)).toEqual([port]);
      expect(policy.spec.ingress.flatMap((i) => i.ports.map((p) => p.port))).toEqual([port]);
    }
  });

  it('boots the workshop as the systemd unit stepbox writes, with flags stepbox has', () => {
    for (const vm of of<VirtualMachine>('VirtualMachine')) {
      const text = userData(vm);
      expect(text.startsWith('#cloud-config\n')).toBe(true);
      const config = parse(text) as { runcmd: string[][]; packages: string[] };
      expect(config.packages).toEqual(expect.arrayContaining(['git', 'nodejs', 'npm']));
      const commands = config.runcmd.map((c) => c.join(' '));
      const unit = commands.find((c) => c.includes('--print-systemd-unit'))!;
      expect(unit).toMatch(/npm run -s workshop -- (.*) --print-systemd-unit > \/etc\/systemd\/system\/stepbox\.service/);
      expect(commands).toContain('systemctl enable --now stepbox');
      // The flags as the VM passes them, asked of this checkout's own CLI.
      const flags = /workshop -- (.*) --print-systemd-unit/.exec(unit)![1]!.split(' ');
      const printed = execFileSync(process.execPath, ['lab-server/bin/stepbox.mjs', 'workshop', ...flags, '--print-systemd-unit'], { encoding: 'utf8' });
      expect(printed).toMatch(/^Delegate=yes$/m);
      expect(printed).toContain(`--public-host ${flags[flags.indexOf('--public-host') + 1]}`);
    }
  });

  it('runs nothing privileged and nothing on the node: the lab is root in its VM only', () => {
    const text = readdirSync(DIR).map((f) => readFileSync(join(DIR, f), 'utf8')).join('\n');
    for (const risky of ['privileged: true', 'hostNetwork', 'hostPID', 'hostIPC', 'hostPath', 'hostPort', 'allowPrivilegeEscalation: true']) expect(text).not.toContain(risky);
  });
});

function userData(vm: VirtualMachine): string {
  const v = vm.spec.template.spec.volumes.find((x) => 'cloudInitNoCloud' in x);
  return v && 'cloudInitNoCloud' in v ? v.cloudInitNoCloud.userData : '';
}
