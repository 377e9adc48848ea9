import { inspect, run } from './docker';

/** What the kernel says about a running container, read from inside it (not from the compose file). */
export interface RuntimeFacts {
  uid: string;
  capEff: string;
  capBnd: string;
  noNewPrivs: string;
  rootMount: string;
  rootWritable: boolean;
  writable: string[];
  memoryLimit: number;
  pidsLimit: string;
  health: string;
}

// Every top-level path is tried for a write; /proc, /sys and /dev are the kernel's, not the image's.
const READ_FACTS = `
echo "uid $(id -u)"
awk '/^(CapEff|CapBnd|NoNewPrivs):/ {print $1, $2}' /proc/1/status
awk '$2=="/" {print "rootmount", $4}' /proc/mounts
for d in /*/ /app/*/; do case "$d" in /proc/|/sys/|/dev/) continue;; esac
  if touch "$d.write-probe" 2>/dev/null; then rm -f "$d.write-probe"; echo "writable $d"; fi; done
echo "memory $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max)"
echo "pids $(cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max)"
`;

export async function readRuntime(container: string): Promise<RuntimeFacts> {
  const out = await run('docker', ['exec', container, 'sh', '-c', READ_FACTS]);
  if (out.code !== 0) throw new Error(`docker exec failed: ${out.stderr}`);
  const lines = out.stdout.trim().split('\n');
  const value = (key: string) =>
    lines
      .find((l) => l.startsWith(`${key} `))
      ?.slice(key.length + 1)
      .trim() ?? '';
  const writable = lines.filter((l) => l.startsWith('writable ')).map((l) => l.slice(9));
  return {
    uid: value('uid'),
    capEff: value('CapEff:'),
    capBnd: value('CapBnd:'),
    noNewPrivs: value('NoNewPrivs:'),
    rootMount: value('rootmount'),
    rootWritable: writable.includes('/') || !value('rootmount').split(',').includes('ro'),
    writable,
    memoryLimit: Number(value('memory')),
    pidsLimit: value('pids'),
    health: await inspect(container, '{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}'),
  };
}

export interface Expected {
  uid: string;
  writable: string[];
  memoryBytes: number;
  pids: string;
}

/** Everything that differs from the hardened shape, one line each. */
export function hardeningProblems(facts: RuntimeFacts, expected: Expected): string[] {
  const problems: string[] = [];
  if (facts.uid !== expected.uid) problems.push(`uid ${facts.uid}, expected ${expected.uid}`);
  if (!/^0+$/.test(facts.capEff)) problems.push(`effective capabilities ${facts.capEff}, expected none`);
  if (!/^0+$/.test(facts.capBnd))
    problems.push(`bounding capabilities ${facts.capBnd}: cap_drop ALL missing`);
  if (facts.noNewPrivs !== '1') problems.push(`NoNewPrivs ${facts.noNewPrivs}, expected 1`);
  if (facts.rootWritable) problems.push(`root filesystem is writable (${facts.rootMount.split(',')[0]})`);
  const unexpected = facts.writable.filter((p) => !expected.writable.includes(p));
  if (unexpected.length > 0)
    problems.push(`writable beyond ${expected.writable.join(', ')}: ${unexpected.join(', ')}`);
  for (const path of expected.writable)
    if (!facts.writable.includes(path)) problems.push(`${path} is not writable`);
  if (facts.memoryLimit !== expected.memoryBytes)
    problems.push(`memory limit ${facts.memoryLimit}, expected ${expected.memoryBytes}`);
  if (facts.pidsLimit !== expected.pids)
    problems.push(`pids limit ${facts.pidsLimit}, expected ${expected.pids}`);
  if (facts.health !== 'healthy') problems.push(`health ${facts.health}, expected healthy`);
  return problems;
}

export function describeRuntime(f: RuntimeFacts): string {
  return (
    `uid ${f.uid}, CapEff ${f.capEff}, CapBnd ${f.capBnd}, NoNewPrivs ${f.noNewPrivs}, root ${f.rootMount.split(',')[0]}, ` +
    `writable ${f.writable.join(' ') || 'nothing'}, memory ${f.memoryLimit}, pids ${f.pidsLimit}, ${f.health}`
  );
}

/** Redis writes its snapshot where it is meant to (/data, a tmpfs): SAVE answers OK and the file is there. */
export async function redisWrites(container: string): Promise<string> {
  const save = await run('docker', ['exec', container, 'redis-cli', 'SAVE']);
  const file = await run('docker', [
    'exec',
    container,
    'sh',
    '-c',
    'ls -ln /data/dump.rdb && stat -c "%a %u" /data',
  ]);
  if (save.stdout.trim() !== 'OK' || file.code !== 0) {
    const mode = await run('docker', ['exec', container, 'stat', '-c', '%A %U', '/data']);
    throw new Error(
      `Redis cannot write /data: SAVE said "${(save.stdout + save.stderr).trim()}", /data is ${mode.stdout.trim()}`,
    );
  }
  return `SAVE OK, /data mode and owner ${file.stdout.trim().split('\n').at(-1)}`;
}
