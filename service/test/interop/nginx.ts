import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../../scripts/lib/free-port';

/** Debian's nginx binary, or undefined when it is not installed (`.ci/run` installs it). */
export function nginxBinary(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' });
  const binary = found.stdout.trim().split('\n')[0];
  return found.status === 0 && binary ? binary : undefined;
}

export interface Nginx {
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  /** The error log so far, for a failure message. */
  errorLog(): string;
  stop(): Promise<void>;
}

/**
 * A caching reverse proxy as users deploy one in front of the service: stock nginx, `proxy_cache` with
 * `proxy_cache_revalidate on`, nothing tuned for this service (no proxy_cache_valid, no ignore_headers),
 * so the response headers alone decide what it caches and for how long. `X-Cache-Status` carries
 * `$upstream_cache_status` (HIT, MISS, EXPIRED, REVALIDATED). Everything lives in a temp folder.
 */
export async function startNginx(binary: string, upstream: string): Promise<Nginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nginx-interop-'));
  const port = await freePort();
  const config = `
# Root may run this test: workers as root can use the private temp folder (ignored when not root).
user root;
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  proxy_cache_path ${dir}/cache levels=1 keys_zone=prices:1m;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_cache prices;
      proxy_cache_revalidate on;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`;
  const configFile = path.join(dir, 'nginx.conf');
  writeFileSync(configFile, config);
  const child: ChildProcess = spawn(binary, ['-p', dir, '-c', configFile], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errorLog = () => {
    try {
      return readFileSync(path.join(dir, 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${errorLog()}`);
    try {
      await fetch(`${url}/health/liveness`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not listen in time: ${errorLog()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    errorLog,
    async stop() {
      // SIGTERM: fast shutdown (an open stream would hold a graceful one).
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
