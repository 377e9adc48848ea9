/** Runs open-loop.ts in a process of its own (it must not share an event loop with what it measures). */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT as ROOT } from '../../scripts/lib/local-stack';

export function openLoop(url: string, rate: number, seconds: number): Promise<{ completed: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'dist/service/bench/open-loop.js'), url, String(rate), '300', String(seconds)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').pop() as string))
        : reject(new Error(`open loop ${code}`)),
    );
  });
}
