/** What each check found: printed as it goes and as a table at the end; any failure fails the run. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

export class Report {
  readonly results: CheckResult[] = [];
  readonly figures: Record<string, string> = {};

  /** Runs one check; a thrown error is its failure, with the message as the detail. */
  async check(name: string, body: () => Promise<string>): Promise<boolean> {
    const started = Date.now();
    let result: CheckResult;
    try {
      result = { name, ok: true, detail: await body(), ms: Date.now() - started };
    } catch (error) {
      result = { name, ok: false, detail: (error as Error).message, ms: Date.now() - started };
    }
    this.results.push(result);
    const seconds = (result.ms / 1000).toFixed(1);
    process.stdout.write(
      `[containers] ${result.ok ? 'ok  ' : 'FAIL'} ${name} (${seconds} s): ${result.detail}\n`,
    );
    return result.ok;
  }

  figure(name: string, value: string): void {
    this.figures[name] = value;
    process.stdout.write(`[containers] figure: ${name} = ${value}\n`);
  }

  get failed(): CheckResult[] {
    return this.results.filter((r) => !r.ok);
  }

  summary(): string {
    const lines = this.results.map((r) => `  ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}`);
    const figures = Object.entries(this.figures).map(([k, v]) => `  ${k}: ${v}`);
    return ['checks:', ...lines, 'figures:', ...figures].join('\n');
  }
}

/** Throws with every problem found, one per line; returns the summary when there is none. */
export function expectNone(problems: string[], summary: string): string {
  if (problems.length > 0) throw new Error(problems.join('; '));
  return summary;
}
