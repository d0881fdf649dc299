/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4),
 * for tests: it throws, naming the line, on anything a Prometheus server
 * would refuse or that breaks the format's rules: bad names, bad escapes,
 * samples before or outside their family's TYPE, interleaved families,
 * duplicate series, histogram buckets that are not cumulative or whose +Inf
 * bucket differs from _count.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: MetricType;
  help: string | undefined;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith('\n')) {
    throw new Error('the exposition must end with a line feed');
  }
  const families = new Map<string, MetricFamily>();
  const closed = new Set<string>();
  const seriesSeen = new Set<string>();
  const typed = new Set<string>();
  let current: MetricFamily | undefined;

  const family = (name: string, line: number): MetricFamily => {
    if (current?.name === name) {
      return current;
    }
    if (closed.has(name) || families.has(name)) {
      throw new Error(`line ${line}: lines of family ${name} are not together`);
    }
    if (current) {
      closed.add(current.name);
    }
    current = { name, type: 'untyped', help: undefined, samples: [] };
    families.set(name, current);
    return current;
  };

  const lines = text.split('\n').slice(0, -1);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') {
      return;
    }
    if (raw.startsWith('#')) {
      const match = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(raw);
      if (!match) {
        return;
      } // a plain comment
      const [, keyword, name, rest = ''] = match;
      if (!METRIC_NAME.test(name!)) {
        throw new Error(`line ${line}: bad metric name '${name}'`);
      }
      const target = family(name!, line);
      if (keyword === 'HELP') {
        if (target.help !== undefined) {
          throw new Error(`line ${line}: second HELP for ${name}`);
        }
        if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ''))) {
          throw new Error(`line ${line}: bad escape in HELP of ${name}`);
        }
        target.help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      } else {
        if (!TYPES.has(rest as MetricType)) {
          throw new Error(`line ${line}: unknown TYPE '${rest}' for ${name}`);
        }
        if (target.samples.length > 0) {
          throw new Error(`line ${line}: TYPE of ${name} after its samples`);
        }
        if (typed.has(name!)) {
          throw new Error(`line ${line}: second TYPE for ${name}`);
        }
        typed.add(name!);
        target.type = rest as MetricType;
      }
      return;
    }

    const sample = parseSampleLine(raw, line);
    const familyName = familyOf(sample.name, current);
    const target = family(familyName, line);
    checkSampleName(target, sample, line);
    const key = `${sample.name}{${Object.entries(sample.labels)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}}`;
    if (seriesSeen.has(key)) {
      throw new Error(`line ${line}: duplicate series ${key}`);
    }
    seriesSeen.add(key);
    target.samples.push(sample);
  });

  for (const parsed of families.values()) {
    if (parsed.type === 'histogram') {
      checkHistogram(parsed);
    }
  }
  return families;
}

/** The family a sample line belongs to: the current family if the name is one of its sample names. */
function familyOf(sampleName: string, current: MetricFamily | undefined): string {
  if (current) {
    const base = current.name;
    const suffixes =
      current.type === 'histogram'
        ? ['_bucket', '_sum', '_count']
        : current.type === 'summary'
          ? ['', '_sum', '_count']
          : [''];
    if (suffixes.some((suffix) => sampleName === base + suffix)) {
      return base;
    }
  }
  return sampleName;
}

function checkSampleName(target: MetricFamily, sample: Sample, line: number): void {
  if (target.type === 'histogram') {
    if (sample.name === `${target.name}_bucket`) {
      if (sample.labels.le === undefined) {
        throw new Error(`line ${line}: histogram bucket without le`);
      }
      parseValue(sample.labels.le, line);
    }
    return;
  }
  if (target.type === 'summary' && sample.name === target.name && sample.labels.quantile === undefined) {
    throw new Error(`line ${line}: summary quantile without the quantile label`);
  }
}

function checkHistogram(histogram: MetricFamily): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const sample of histogram.samples) {
    const { le, ...rest } = sample.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (sample.name.endsWith('_bucket')) {
      group.buckets.push([parseValue(le!, 0), sample.value]);
    }
    if (sample.name.endsWith('_count')) {
      group.count = sample.value;
    }
  }
  for (const [key, group] of groups) {
    const buckets = group.buckets.sort((a, b) => a[0] - b[0]);
    if (buckets.at(-1)?.[0] !== Infinity) {
      throw new Error(`histogram ${histogram.name} ${key} has no +Inf bucket`);
    }
    for (let index = 1; index < buckets.length; index++) {
      if (buckets[index]![1] < buckets[index - 1]![1]) {
        throw new Error(`histogram ${histogram.name} ${key}: buckets are not cumulative`);
      }
    }
    if (group.count !== buckets.at(-1)![1]) {
      throw new Error(`histogram ${histogram.name} ${key}: +Inf bucket differs from _count`);
    }
  }
}

function parseSampleLine(raw: string, line: number): Sample {
  const nameMatch = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(raw);
  if (!nameMatch) {
    throw new Error(`line ${line}: a sample must start with a metric name: ${raw}`);
  }
  const name = nameMatch[1]!;
  let position = name.length;
  const labels: Record<string, string> = {};
  if (raw[position] === '{') {
    position++;
    for (;;) {
      if (raw[position] === '}') {
        position++;
        break;
      }
      const labelMatch = /^([^=]*)="/.exec(raw.slice(position));
      if (!labelMatch || !LABEL_NAME.test(labelMatch[1]!)) {
        throw new Error(`line ${line}: bad label near '${raw.slice(position)}'`);
      }
      const labelName = labelMatch[1]!;
      if (labelName.startsWith('__')) {
        throw new Error(`line ${line}: reserved label name ${labelName}`);
      }
      if (labelName in labels) {
        throw new Error(`line ${line}: label ${labelName} given twice`);
      }
      position += labelMatch[0].length;
      let value = '';
      for (;;) {
        const character = raw[position];
        if (character === undefined) {
          throw new Error(`line ${line}: unterminated label value`);
        }
        position++;
        if (character === '"') {
          break;
        }
        if (character === '\\') {
          const escaped = raw[position++];
          if (escaped === 'n') {
            value += '\n';
          } else if (escaped === '\\' || escaped === '"') {
            value += escaped;
          } else {
            throw new Error(`line ${line}: bad escape \\${escaped} in a label value`);
          }
        } else {
          value += character;
        }
      }
      labels[labelName] = value;
      if (raw[position] === ',') {
        position++;
      } else if (raw[position] !== '}') {
        throw new Error(`line ${line}: expected , or } after a label`);
      }
    }
  }
  const rest = raw.slice(position);
  const valueMatch = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!valueMatch) {
    throw new Error(`line ${line}: expected ' <value> [timestamp]' after the series, got '${rest}'`);
  }
  return { name, labels, value: parseValue(valueMatch[1]!, line) };
}

/** Values as Prometheus reads them (Go's ParseFloat: Inf and NaN in any case). */
function parseValue(text: string, line: number): number {
  if (/^\+?inf(inity)?$/i.test(text)) {
    return Infinity;
  }
  if (/^-inf(inity)?$/i.test(text)) {
    return -Infinity;
  }
  if (/^nan$/i.test(text)) {
    return Number.NaN;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new Error(`line ${line}: '${text}' is not a sample value`);
  }
  return Number(text);
}

/** The value of one series, or undefined when it is absent. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  family: string,
  labels: Record<string, string> = {},
  name = family
): number | undefined {
  return families
    .get(family)
    ?.samples.find(
      (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
    )?.value;
}
