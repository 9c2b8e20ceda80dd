import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterFamily } from './counter-family.ts';
import { parseExposition, sumSamples } from './exposition.ts';
import { HistogramFamily } from './histogram-family.ts';

describe('CounterFamily and HistogramFamily', () => {
  it('expose what the cells hold, in the text format a scraper parses', async () => {
    const registry = new Registry();
    const requests = new CounterFamily(registry, { name: 't_requests_total', help: 'requests', labelNames: ['host', 'code_class'] });
    const latency = new HistogramFamily(registry, { name: 't_latency_seconds', help: 'latency', labelNames: ['host'], buckets: [0.1, 1] });
    const ok = requests.series({ host: 'a.test', code_class: '2xx' });
    ok.value += 3;
    requests.series({ host: 'a.test', code_class: '5xx' }).value++;
    expect(requests.series({ host: 'a.test', code_class: '2xx' })).toBe(ok);
    const cell = latency.series({ host: 'a.test' });
    for (const v of [0.05, 0.1, 0.5, 2]) latency.observe(cell, v);

    const families = parseExposition(await registry.metrics());
    expect(families.get('t_requests_total')?.type).toBe('counter');
    expect(sumSamples(families, 't_requests_total', { code_class: '2xx' })).toBe(3);
    expect(sumSamples(families, 't_requests_total')).toBe(4);
    expect(families.get('t_latency_seconds')?.type).toBe('histogram');
    const buckets = Object.fromEntries(
      (families.get('t_latency_seconds')?.samples ?? []).filter((s) => s.name.endsWith('_bucket')).map((s) => [s.labels.le, s.value]),
    );
    expect(buckets).toEqual({ '0.1': 2, '1': 3, '+Inf': 4 });
    expect(sumSamples(families, 't_latency_seconds_count')).toBe(4);
    expect(sumSamples(families, 't_latency_seconds_sum')).toBeCloseTo(2.65);
  });

  it('bounds the number of series: past maxSeries, label sets share one _other series', async () => {
    const registry = new Registry();
    const c = new CounterFamily(registry, { name: 'b_total', help: 'b', labelNames: ['client'], maxSeries: 2 });
    for (const id of ['a', 'b', 'c', 'd']) c.series({ client: id }).value++;
    const f = parseExposition(await registry.metrics()).get('b_total');
    expect(f?.samples.map((s) => [s.labels.client, s.value])).toEqual([
      ['a', 1],
      ['b', 1],
      ['_other', 2],
    ]);
  });

  it('drops the series of a label value that went away', async () => {
    const registry = new Registry();
    const c = new CounterFamily(registry, { name: 'd_total', help: 'd', labelNames: ['client'] });
    c.series({ client: 'gone' }).value++;
    c.series({ client: 'kept' }).value++;
    c.drop((l) => l.client === 'gone');
    const f = parseExposition(await registry.metrics()).get('d_total');
    expect(f?.samples.map((s) => s.labels.client)).toEqual(['kept']);
  });
});

describe('parseExposition', () => {
  it('refuses a sample without TYPE, a bad value and broken labels', () => {
    expect(() => parseExposition('x 1\n')).toThrow(/no TYPE/);
    expect(() => parseExposition('# TYPE x gauge\nx abc\n')).toThrow(/bad value/);
    expect(() => parseExposition('# TYPE x gauge\nx{a="1",b} 1\n')).toThrow(/bad labels/);
  });

  it('reads NaN in any case, as Prometheus does (prom-client writes `Nan`)', () => {
    for (const text of ['NaN', 'Nan', 'nan']) {
      expect(parseExposition(`# TYPE x gauge\nx ${text}\n`).get('x')?.samples[0].value).toBeNaN();
    }
  });

  it('reads escaped label values', () => {
    const f = parseExposition('# TYPE x gauge\nx{a="q\\"t",b="x\\\\y"} 2\n').get('x');
    expect(f?.samples[0]).toEqual({ name: 'x', labels: { a: 'q"t', b: 'x\\y' }, value: 2 });
  });
});
