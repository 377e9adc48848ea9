import type { AnySetting, Composite, ConfigOf } from './setting';
import { clientSettings } from './settings/clients';
import { priceSettings } from './settings/price';
import { redisSettings } from './settings/redis';
import { serverSettings } from './settings/server';

/**
 * The settings table, by section. Each section's tree has the shape of its part of Config: a leaf is a
 * Setting (one variable feeding that field) or a Composite (several variables, or a list, feeding it). The
 * README table, .env.example and k8s/base/config.env are generated from these (scripts/generate-settings.ts).
 */
export const SECTIONS = [
  { title: 'Server', tree: serverSettings },
  { title: 'Redis L2 (shared by workers and replicas; unset = L1 only)', tree: redisSettings },
  { title: 'Prices: pairs, sources, freshness, aggregation, upstream calls', tree: priceSettings },
  { title: 'Clients: limits, rate limit, CORS, the price stream', tree: clientSettings },
] as const;

export const configTable = {
  ...serverSettings,
  ...redisSettings,
  ...priceSettings,
  ...clientSettings,
};

/**
 * Every setting is parsed from the environment once, before anything starts, and frozen: a bad value never
 * gets as far as listening (loadConfig throws a ConfigError listing every problem).
 */
export type Config = ConfigOf<typeof configTable>;

/** A node of the table: a setting, a composite, or a group of nodes. */
type TableNode = AnySetting | Composite<unknown> | { readonly [key: string]: TableNode };

function isLeaf(node: TableNode): node is AnySetting | Composite<unknown> {
  return 'kind' in node && (node.kind === 'setting' || node.kind === 'composite');
}

/** The variables under a node, in table order, each once (a composite's inputs where it stands). */
export function settingsIn(node: object): AnySetting[] {
  const found = new Map<string, AnySetting>();
  const walk = (n: TableNode) => {
    if (!isLeaf(n)) for (const child of Object.values(n)) walk(child);
    else if (n.kind === 'setting') found.set(n.env, found.get(n.env) ?? n);
    else for (const input of n.inputs) found.set(input.env, found.get(input.env) ?? input);
  };
  walk(node as TableNode);
  return [...found.values()];
}

/** Every variable the service reads through loadConfig, in table order. */
export const SETTINGS: readonly AnySetting[] = settingsIn(configTable);

/** Builds the value of each node: a setting's parsed value through toConfig, a composite's build. */
export function buildTree(
  node: object,
  value: (setting: AnySetting) => unknown,
  build: (field: Composite<unknown>) => unknown,
): unknown {
  const n = node as TableNode;
  if (isLeaf(n)) return n.kind === 'setting' ? n.toConfig(value(n)) : build(n);
  return Object.fromEntries(Object.entries(n).map(([key, child]) => [key, buildTree(child, value, build)]));
}
