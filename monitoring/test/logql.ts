/**
 * LogQL read through Grafana's own grammar (@grafana/lezer-logql, the parser behind Grafana's Loki query
 * editor): syntax errors and the stream selectors. The package ships a CommonJS build (exports.require)
 * that loads under jest on Node 24; it needs the exact @lezer/lr version it names as a peer.
 */
import { parser } from '@grafana/lezer-logql';
import { substituteGrafanaBuiltins, unquote, type Matcher } from './promql';

/** The grammar's node type (taken from the parser: @lezer/common's ESM and CJS typings differ). */
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface ParsedLogQL {
  errors: string[];
  /** The stream selectors ({label="value", ...}), one entry per selector. */
  streams: Matcher[][];
  /** Ranges of range aggregations (count_over_time({...}[5m])), as written after substitution. */
  ranges: string[];
}

const OPS: Record<string, Matcher['op']> = { Eq: '=', Neq: '!=', Re: '=~', Nre: '!~' };

function matchersOf(selector: SyntaxNode, text: string): Matcher[] {
  const out: Matcher[] = [];
  const visit = (node: SyntaxNode) => {
    for (let child = node.firstChild; child !== null; child = child.nextSibling) {
      if (child.name === 'Matchers') visit(child);
      if (child.name !== 'Matcher') continue;
      const label = child.getChild('Identifier');
      const value = child.getChild('String');
      const op = [child.firstChild, child.firstChild?.nextSibling].find((n) => n && n.name in OPS);
      if (label && value && op)
        out.push({
          label: text.slice(label.from, label.to),
          op: OPS[op.name] as Matcher['op'],
          value: unquote(text.slice(value.from, value.to)),
        });
    }
  };
  visit(selector);
  return out;
}

export function parseLogQL(expr: string): ParsedLogQL {
  const text = substituteGrafanaBuiltins(expr);
  const tree = parser.parse(text);
  const errors: string[] = [];
  const streams: Matcher[][] = [];
  const ranges: string[] = [];
  if (text.trim() === '') return { errors: ['empty expression'], streams, ranges };
  tree.iterate({
    enter: (ref) => {
      if (ref.type.isError) {
        const near = text.slice(Math.max(0, ref.from - 20), ref.from + 20).replace(/\s+/g, ' ');
        errors.push(`syntax error at offset ${ref.from}: …${near}…`);
      }
      if (ref.name === 'Selector') streams.push(matchersOf(ref.node, text));
      if (ref.name === 'Range') ranges.push(text.slice(ref.from, ref.to));
    },
  });
  if (errors.length === 0 && streams.length === 0) errors.push('no stream selector');
  return { errors, streams, ranges };
}
