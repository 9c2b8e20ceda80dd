import { describe, expect, it } from 'vitest';
import { promqlNames } from './promql-names.ts';

describe('promqlNames', () => {
  it('tells metrics from functions, grouping labels and matchers', () => {
    expect(promqlNames('histogram_quantile(0.99, sum by (le, host) (rate(tunnel_x_bucket{phase="first_byte",host=~"a.*"}[5m])))')).toEqual({
      metrics: ['tunnel_x_bucket'],
      labels: ['le', 'host', 'phase'],
    });
    expect(promqlNames('sum(rate(a_total{code_class="5xx"}[5m])) / clamp_min(sum(rate(a_total[5m])), 1e-9)')).toEqual({
      metrics: ['a_total'],
      labels: ['code_class'],
    });
    expect(promqlNames('b_seconds offset 5m and on (client) c_total')).toEqual({ metrics: ['b_seconds', 'c_total'], labels: ['client'] });
  });
});
