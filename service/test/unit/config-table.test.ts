import { loadConfig } from '../../src/config';
import { SECTIONS, SETTINGS, configTable, settingsIn } from '../../src/config/config-table';
import { CROSS_CHECKED } from '../../src/config/cross-checks';
import { problemsOf } from './config-problems';

/** The table itself: what makes it one place per setting, and what the Config built from it guarantees. */
describe('the settings table', () => {
  test('When the table is walked, then each variable is there once, in UPPER_SNAKE_CASE, with a doc line', () => {
    const names = SETTINGS.map((s) => s.env);
    expect(new Set(names).size).toBe(names.length);
    for (const s of SETTINGS) {
      expect(s.env).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect([s.env, s.doc.length > 10 && !s.doc.endsWith('.') && !s.doc.includes('\n')]).toEqual([
        s.env,
        true,
      ]);
    }
  });

  test('When the sections are listed, then together they are the whole table, each variable in one section', () => {
    const bySection = SECTIONS.flatMap((section) => settingsIn(section.tree).map((s) => s.env));
    expect(bySection).toEqual(SETTINGS.map((s) => s.env));
  });

  test('When a cross-check names the variables it reads, then each is a variable of the table (a typo would run it on a bad value)', () => {
    const names = new Set(SETTINGS.map((s) => s.env));
    expect(CROSS_CHECKED.filter((name) => !names.has(name))).toEqual([]);
  });

  test('When Config is built, then its groups are the table’s (the type is derived from the same tree)', () => {
    expect(Object.keys(loadConfig({})).sort()).toEqual(Object.keys(configTable).sort());
    expect(Object.keys(loadConfig({}).price).sort()).toEqual(Object.keys(configTable.price).sort());
  });
});

describe('HSTS_MAX_AGE_SECONDS', () => {
  test('When it is unset or 0, then there is no HSTS: the service does not know it is behind TLS', () => {
    expect(loadConfig({}).hsts).toBeUndefined();
    expect(loadConfig({ HSTS_MAX_AGE_SECONDS: '0' }).hsts).toBeUndefined();
  });

  test('When the operator sets it, then config.hsts carries the max-age', () => {
    expect(loadConfig({ HSTS_MAX_AGE_SECONDS: '31536000' }).hsts).toStrictEqual({
      maxAgeSeconds: 31_536_000,
    });
  });

  test('When it is not a whole number or above two years, then it is reported', () => {
    expect(problemsOf({ HSTS_MAX_AGE_SECONDS: 'true' })).toEqual([
      'HSTS_MAX_AGE_SECONDS: must be a whole number',
    ]);
    expect(problemsOf({ HSTS_MAX_AGE_SECONDS: '63072001' })).toEqual([
      'HSTS_MAX_AGE_SECONDS: Too big: expected number to be <=63072000',
    ]);
  });
});

describe('loadConfig: immutability', () => {
  test('When a config is loaded, then it is frozen all the way down', () => {
    const config = loadConfig({ MOCK_EXCHANGE_URL: 'http://mock:9000' });
    for (const part of [
      config,
      config.redis,
      config.price,
      config.upstream,
      config.pairs,
      config.pairs[0],
      config.sources,
      config.sources[0],
    ]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
  });

  test('When code tries to change the config, then a TypeError is thrown and nothing changes', () => {
    const config = loadConfig({});
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.price as { minQuorum: number }).minQuorum = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.sources as unknown[]).push({ name: 'evil', baseUrl: 'http://evil' });
    }).toThrow(TypeError);
    expect(config.port).toBe(8000);
    expect(config.price.minQuorum).toBe(3);
    expect(config.sources).toHaveLength(6);
  });
});
