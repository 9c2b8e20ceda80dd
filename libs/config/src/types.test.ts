import { describe, expectTypeOf, it } from 'vitest';
import type { EdgeClientConfig, ExitServerConfig, InfraConfig, SampleAppConfig } from './index.ts';
import { defineSchema, type ConfigOf, type LogLevel } from './schema.ts';

// These assertions are checked by `tsc`; at runtime the tests are no-ops.
describe('inferred config types', () => {
  it('maps kinds to value types, optional ones to | undefined', () => {
    expectTypeOf<ExitServerConfig['port']>().toEqualTypeOf<number>();
    expectTypeOf<ExitServerConfig['trustProxy']>().toEqualTypeOf<boolean>();
    expectTypeOf<ExitServerConfig['bind']>().toEqualTypeOf<string>();
    expectTypeOf<ExitServerConfig['tlsCert']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ExitServerConfig['tcpPort']>().toEqualTypeOf<readonly number[]>();
    expectTypeOf<ExitServerConfig['logLevel']>().toEqualTypeOf<LogLevel>();
    expectTypeOf<ExitServerConfig['config']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ExitServerConfig['token']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<ExitServerConfig['tokens']>().toEqualTypeOf<readonly string[]>();
    expectTypeOf<EdgeClientConfig['token']>().toEqualTypeOf<string>();
    expectTypeOf<ExitServerConfig['adminToken']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<EdgeClientConfig>().not.toHaveProperty('adminToken');
    expectTypeOf<EdgeClientConfig['url']>().toEqualTypeOf<string>();
    expectTypeOf<EdgeClientConfig['upstream']>().toEqualTypeOf<readonly { readonly hostname: string | null; readonly url: string }[]>();
    expectTypeOf<EdgeClientConfig['tcp'][number]['publicPort']>().toEqualTypeOf<number>();
    expectTypeOf<EdgeClientConfig['id']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<InfraConfig['exitServerArch']>().toEqualTypeOf<'arm64' | 'x86_64'>();
    expectTypeOf<SampleAppConfig['name']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<SampleAppConfig>().not.toHaveProperty('token');
    expectTypeOf<SampleAppConfig>().not.toHaveProperty('tokenFile');
  });

  it('is readonly all the way down', () => {
    const _schema = defineSchema({
      name: 't',
      summary: 't',
      options: {
        item: { kind: 'custom', placeholder: 'X', expected: 'x', parse: (raw) => ({ nested: { raw } }), required: true, description: 'd' },
      },
    });
    // Never called: only the compiler needs to see these assignments.
    const _mutate = (c: ConfigOf<typeof _schema>) => {
      // @ts-expect-error top level is readonly
      c.item = { nested: { raw: 'x' } };
      // @ts-expect-error nested objects are readonly
      c.item.nested.raw = 'x';
    };
    expectTypeOf<ConfigOf<typeof _schema>['item']['nested']['raw']>().toEqualTypeOf<string>();
  });
});
