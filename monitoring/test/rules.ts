import { basename } from 'node:path';
import { RULES_DIR, RULE_TESTS_DIR, filesIn, readYaml } from './paths';

export interface LoadedAlertRule {
  file: string;
  group: string;
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
export interface LoadedRecordingRule {
  file: string;
  group: string;
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

interface RawRule {
  alert?: string;
  record?: string;
  expr: string | number;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export const RULE_FILES = filesIn(RULES_DIR, /\.ya?ml$/);
export const RULE_TEST_FILES = filesIn(RULE_TESTS_DIR, /_test\.ya?ml$/);

function allRules(): { file: string; group: string; rule: RawRule }[] {
  return RULE_FILES.flatMap((file) =>
    readYaml<{ groups: { name: string; rules: RawRule[] }[] }>(file).groups.flatMap((group) =>
      group.rules.map((rule) => ({ file: basename(file), group: group.name, rule })),
    ),
  );
}

export function loadAlertRules(): LoadedAlertRule[] {
  return allRules()
    .filter(({ rule }) => rule.alert !== undefined)
    .map(({ file, group, rule }) => ({
      file,
      group,
      alert: rule.alert as string,
      expr: String(rule.expr),
      for: rule.for,
      labels: rule.labels ?? {},
      annotations: rule.annotations ?? {},
    }));
}

export function loadRecordingRules(): LoadedRecordingRule[] {
  return allRules()
    .filter(({ rule }) => rule.record !== undefined)
    .map(({ file, group, rule }) => ({
      file,
      group,
      record: rule.record as string,
      expr: String(rule.expr),
      labels: rule.labels,
    }));
}

export interface AlertCase {
  file: string;
  test: string;
  alertname: string;
  evalTime: string;
  fires: boolean;
}

interface RawRuleTestFile {
  tests: {
    name?: string;
    alert_rule_test?: { eval_time: string; alertname: string; exp_alerts?: unknown[] }[];
  }[];
}

/** Every alert_rule_test case of every promtool test file: which alert, and whether it expects it to fire. */
export function loadAlertCases(): AlertCase[] {
  return RULE_TEST_FILES.flatMap((file) =>
    readYaml<RawRuleTestFile>(file).tests.flatMap((test) =>
      (test.alert_rule_test ?? []).map((c) => ({
        file: basename(file),
        test: test.name ?? '(unnamed)',
        alertname: c.alertname,
        evalTime: c.eval_time,
        fires: (c.exp_alerts ?? []).length > 0,
      })),
    ),
  );
}
