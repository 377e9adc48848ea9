import { z } from 'zod';

/**
 * The building blocks of the settings table. A Setting is one environment variable: its name, how its text
 * is parsed and checked (a zod schema that also applies the default), the default as the docs show it, a
 * unit, one line of doc, and optionally the value the k8s deployment sets. Where it sits in the table's tree
 * (config-table.ts) is the Config field it feeds, so the Config type is derived from the table.
 */

export type Unit = 'ms' | 's' | 'bytes' | 'basis points' | '%' | 'per second';

export interface Setting<Env extends string = string, Parsed = unknown, Value = Parsed> {
  readonly kind: 'setting';
  readonly env: Env;
  /** Parses the variable's text (undefined when unset or empty) into its value, default applied. */
  readonly schema: z.ZodType<Parsed>;
  /** The default as written into .env.example and config.env; undefined = unset or computed. */
  readonly default: string | undefined;
  /** The default as the README shows it (a fixed value in backquotes, or words such as "CPU count"). */
  readonly defaultDoc: string;
  readonly unit: Unit | undefined;
  /** One line for the README table and .env.example. */
  readonly doc: string;
  /** A value for .env.example's commented line when there is no default. */
  readonly example: string | undefined;
  /** Written to k8s/base/config.env: the deployment's own value (or the default), with why it differs. */
  readonly k8s: { readonly value?: string; readonly comment?: string } | undefined;
  /** The parsed value as Config holds it (e.g. seconds to milliseconds). */
  readonly toConfig: (parsed: Parsed) => Value;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnySetting = Setting<string, any, any>;

/** What a composite field's build and a cross-check may read. */
export interface ParseContext {
  /** The raw text of each variable; empty values are already removed (unset). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The variables whose own schema rejected them. */
  readonly failed: ReadonlySet<string>;
  /** The parsed value of a setting (meaningless when it failed: check `failed` first). */
  value<T>(setting: Setting<string, T, unknown>): T;
  problem(message: string): void;
}

/**
 * A Config field built from several variables (or from one, with checks zod cannot express per field, such
 * as lists): the variables are documented as settings of their own, and `build` reports every problem.
 */
export interface Composite<Value> {
  readonly kind: 'composite';
  readonly inputs: readonly AnySetting[];
  readonly build: (context: ParseContext) => Value;
}

export function composite<Value>(
  inputs: readonly AnySetting[],
  build: (context: ParseContext) => Value,
): Composite<Value> {
  return { kind: 'composite', inputs, build };
}

/** The value a node of the table gives Config: a setting's, a composite's, or a group of them. */
export type ConfigOf<Node> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Node extends Setting<string, any, infer Value>
    ? Value
    : Node extends Composite<infer Value>
      ? Value
      : { readonly [Key in keyof Node]: ConfigOf<Node[Key]> };

interface Common<Env extends string> {
  readonly env: Env;
  readonly doc: string;
  readonly unit?: Unit;
  readonly example?: string;
  readonly k8s?: { readonly value?: string; readonly comment?: string };
}

function setting<Env extends string, Parsed, Value>(
  common: Common<Env>,
  schema: z.ZodType<Parsed>,
  shownDefault: string | undefined,
  defaultDoc: string | undefined,
  toConfig: (parsed: Parsed) => Value,
): Setting<Env, Parsed, Value> {
  return {
    kind: 'setting',
    env: common.env,
    schema,
    default: shownDefault,
    defaultDoc: defaultDoc ?? (shownDefault === undefined ? 'unset' : `\`${shownDefault}\``),
    unit: common.unit,
    doc: common.doc,
    example: common.example,
    k8s: common.k8s,
    toConfig,
  };
}

const same = <T>(value: T) => value;

interface IntOptions<Env extends string, Value> extends Common<Env> {
  readonly min: number;
  readonly max: number;
  readonly default: number;
  /** Set when the default is not a fixed value (WORKERS: the CPU count). */
  readonly defaultDoc?: string;
  readonly toConfig?: (parsed: number) => Value;
}

/** Decimal digits only (no 1e3, 0x1F, -5 or 8080.5), as a number in [min, max]. */
function wholeNumber(min: number, max: number) {
  return z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}

/** A whole number in [min, max] with a default. */
export function int<Env extends string, Value = number>(
  options: IntOptions<Env, Value>,
): Setting<Env, number, Value> {
  const schema = wholeNumber(options.min, options.max)
    .optional()
    .transform((v) => v ?? options.default);
  return setting(
    options,
    schema,
    options.defaultDoc === undefined ? String(options.default) : undefined,
    options.defaultDoc,
    options.toConfig ?? (same as (parsed: number) => Value),
  );
}

/** A whole number in [min, max] with no fixed default: undefined when unset (the table computes it). */
export function optionalInt<Env extends string>(
  options: Common<Env> & { readonly min: number; readonly max: number; readonly defaultDoc: string },
): Setting<Env, number | undefined> {
  const schema = wholeNumber(options.min, options.max).optional();
  return setting(options, schema, undefined, options.defaultDoc, same);
}

/** Free text, trimmed, not empty, with a default. */
export function text<Env extends string>(
  options: Common<Env> & { readonly default: string },
): Setting<Env, string> {
  return setting(
    options,
    z.string().trim().min(1).optional().default(options.default),
    options.default,
    undefined,
    same,
  );
}

/** Text with its own schema (the schema applies the default, if any). */
export function custom<Env extends string, Parsed>(
  options: Common<Env> & { readonly default?: string; readonly defaultDoc?: string },
  schema: z.ZodType<Parsed>,
): Setting<Env, Parsed> {
  return setting(options, schema, options.default, options.defaultDoc, same);
}

/** One of a few words, case-sensitive. */
export function choice<Env extends string, const Word extends string>(
  options: Common<Env> & { readonly words: readonly [Word, ...Word[]]; readonly default: Word },
): Setting<Env, Word> {
  return setting(
    options,
    z.enum(options.words).optional().default(options.default) as z.ZodType<Word>,
    options.default,
    undefined,
    same,
  );
}

/** Unset, or text that a composite field parses (lists, Redis nodes): trimmed here, checked there. */
export function raw<Env extends string>(
  options: Common<Env> & { readonly defaultDoc?: string; readonly trim?: boolean },
): Setting<Env, string | undefined> {
  const schema = options.trim === false ? z.string().optional() : z.string().trim().optional();
  return setting(options, schema, undefined, options.defaultDoc, same);
}

/** Unset, or an http(s) URL. */
export function httpUrl<Env extends string>(
  options: Common<Env> & { readonly defaultDoc?: string },
): Setting<Env, string | undefined> {
  return setting(
    options,
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    undefined,
    options.defaultDoc,
    same,
  );
}
