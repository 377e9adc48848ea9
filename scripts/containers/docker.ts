import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root: compose files and Dockerfiles are named relative to it. */
export const REPO = __dirname.includes('/dist/scripts/')
  ? resolve(__dirname, '../../..')
  : resolve(__dirname, '../..');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command without a shell; never throws on a non-zero exit (the caller decides). */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((done) => {
    execFile(
      cmd,
      args,
      { cwd: REPO, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        done({ code, stdout: stdout.toString(), stderr: stderr.toString() });
      },
    );
  });
}

/** Runs a command and throws with its output when it fails. */
export async function must(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const result = await run(cmd, args, env);
  if (result.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(' ')} exited ${result.code}:\n${result.stderr.slice(-3000)}${result.stdout.slice(-2000)}`,
    );
  }
  return result.stdout;
}

/** Runs a command with its output on ours (long builds: the log shows progress). */
export function stream(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: 'inherit' });
    child.once('exit', (code) => done(code ?? 1));
  });
}

/** `docker compose` over a list of files (project name from the first file's `name:`). */
export function compose(files: string[]) {
  const base = files.flatMap((f) => ['-f', f]);
  return {
    run: (args: string[], env: NodeJS.ProcessEnv = {}) => run('docker', ['compose', ...base, ...args], env),
    must: (args: string[], env: NodeJS.ProcessEnv = {}) => must('docker', ['compose', ...base, ...args], env),
    stream: (args: string[], env: NodeJS.ProcessEnv = {}) =>
      stream('docker', ['compose', ...base, ...args], env),
    /** The container id of one service, or '' when it has none. */
    id: async (service: string) => (await must('docker', ['compose', ...base, 'ps', '-aq', service])).trim(),
  };
}

export async function inspect(container: string, format: string): Promise<string> {
  return (await must('docker', ['inspect', '-f', format, container])).trim();
}

/** The container's address on its first network: clients reach it without the userland proxy. */
export function containerIp(container: string): Promise<string> {
  return inspect(container, '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}').then(
    (ips) => ips.split(' ')[0] ?? '',
  );
}

/** Polls `probe` until it returns a value, or throws after `timeoutMs` naming what was awaited. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET over a fresh connection: status and body, or the error's code. */
export async function get(
  url: string,
  timeoutMs = 5000,
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text(), headers: response.headers };
}
