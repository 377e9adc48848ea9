/**
 * What a scenario file promises (how long it runs, how many virtual users arrive) and the traps in it that
 * make an Artillery gate pass silently or hang (../shared/reference/toolchain.md, docs/load-testing.md).
 */

export interface Phase {
  name?: string;
  duration?: number | string;
  arrivalRate?: number;
  rampTo?: number;
  arrivalCount?: number;
  pause?: number | string;
  [key: string]: unknown;
}

export type Step = Record<string, unknown>;

export interface ArtilleryScript {
  config: {
    target?: string;
    phases?: Phase[];
    processor?: string;
    plugins?: Record<string, unknown>;
    [key: string]: unknown;
  };
  scenarios: { name?: string; weight?: number; flow: Step[] }[];
}

export interface ScenarioPlan {
  /** Seconds over which virtual users arrive: the phases' durations and pauses. */
  arrivalSeconds: number;
  /** Seconds the longest flow spends thinking: how long the last user to arrive keeps sending. */
  flowSeconds: number;
  /** arrivalSeconds + flowSeconds: how long the run takes when the generator keeps up. */
  plannedSeconds: number;
  /** Virtual users the phases create (ramps counted as their average rate). */
  plannedArrivals: number;
}

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600 };

/** Artillery durations: a number of seconds, or a string such as "300ms", "5s", "2m". */
export function durationSeconds(value: unknown, where: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  const match = typeof value === 'string' ? DURATION.exec(value.trim()) : null;
  if (match === null)
    throw new Error(`${where}: "${String(value)}" is not a duration such as 5, "300ms" or "2m"`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] ?? 's'] as number);
}

function flowSeconds(steps: Step[], where: string): number {
  let total = 0;
  for (const [index, step] of steps.entries()) {
    const at = `${where}[${index}]`;
    if ('think' in step) total += durationSeconds(step.think, `${at}.think`);
    if ('loop' in step) {
      const count = step.count;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
        throw new Error(`${at}: a loop needs a whole count (an endless loop never lets the run end)`);
      }
      total += count * flowSeconds(step.loop as Step[], `${at}.loop`);
    }
  }
  return total;
}

export function planOf(script: ArtilleryScript): ScenarioPlan {
  let arrivalSeconds = 0;
  let plannedArrivals = 0;
  for (const [index, phase] of (script.config.phases ?? []).entries()) {
    const where = `config.phases[${index}]`;
    if (phase.pause !== undefined) {
      arrivalSeconds += durationSeconds(phase.pause, `${where}.pause`);
      continue;
    }
    const duration = durationSeconds(phase.duration, `${where}.duration`);
    arrivalSeconds += duration;
    if (phase.arrivalCount !== undefined) plannedArrivals += phase.arrivalCount;
    else if (phase.arrivalRate !== undefined) {
      plannedArrivals += (duration * (phase.arrivalRate + (phase.rampTo ?? phase.arrivalRate))) / 2;
    }
  }
  const longestFlow = Math.max(
    0,
    ...script.scenarios.map((s, i) => flowSeconds(s.flow, `scenarios[${i}].flow`)),
  );
  return {
    arrivalSeconds,
    flowSeconds: longestFlow,
    plannedSeconds: arrivalSeconds + longestFlow,
    plannedArrivals: Math.round(plannedArrivals),
  };
}

/** Problems that would make the gate lie or the run hang; empty when the script is sound. */
export function lintScript(script: ArtilleryScript): string[] {
  const problems: string[] = [];
  if (script.config === undefined || !Array.isArray(script.scenarios) || script.scenarios.length === 0) {
    return ['the file needs a config and at least one scenario'];
  }
  if ('ensure' in script.config) {
    problems.push('config.ensure is ignored by Artillery (only config.plugins.ensure counts)');
  }
  if (script.config.plugins !== undefined && 'ensure' in script.config.plugins) {
    problems.push(
      'config.plugins.ensure: thresholds come from monitoring/slo/slos.yml; the runner adds them, a copy here would drift',
    );
  }
  const phases = script.config.phases ?? [];
  if (phases.length === 0) problems.push('config.phases: no phase, so no virtual user arrives');
  for (const [index, phase] of phases.entries()) {
    const where = `config.phases[${index}]`;
    if (phase.pause !== undefined) continue;
    if (phase.duration === undefined) problems.push(`${where}: no duration`);
    if (phase.arrivalRate === undefined && phase.arrivalCount === undefined) {
      problems.push(`${where}: neither arrivalRate nor arrivalCount`);
    }
    // A constant arrivalRate above ~40/s busy-waits a whole core; a ramp to the same rate sends the same load.
    if ((phase.arrivalRate ?? 0) > 40 && phase.rampTo === undefined) {
      problems.push(
        `${where}: arrivalRate ${phase.arrivalRate} without rampTo busy-waits a core; add rampTo: ${phase.arrivalRate}`,
      );
    }
  }
  const visit = (steps: unknown, where: string) => {
    if (!Array.isArray(steps)) {
      problems.push(`${where}: not a list of steps`);
      return;
    }
    for (const [index, step] of (steps as Step[]).entries()) {
      const at = `${where}[${index}]`;
      if ('think' in step && typeof step.think !== 'string') {
        problems.push(
          `${at}.think: write a duration with its unit ("300ms", "1s"); a bare number is ambiguous`,
        );
      }
      if ('loop' in step) visit(step.loop, `${at}.loop`);
      for (const method of ['get', 'head']) {
        const request = step[method] as Record<string, unknown> | undefined;
        if (request === undefined) continue;
        const headers = Object.keys((request.headers as Record<string, unknown> | undefined) ?? {});
        const conditional = headers.some((h) => /^if-none-match$|^if-modified-since$/i.test(h));
        // Artillery takes any 3xx, 304 included, for a redirect and waits for a follow-up that never comes.
        if (conditional && request.followRedirect !== false) {
          problems.push(
            `${at}.${method}: a conditional request needs followRedirect: false (a 304 hangs the user)`,
          );
        }
      }
    }
  };
  script.scenarios.forEach((scenario, i) => visit(scenario.flow, `scenarios[${i}].flow`));
  try {
    planOf(script);
  } catch (error) {
    problems.push((error as Error).message);
  }
  return problems;
}
