import { describe, expect, it } from 'vitest';
import { type ActivationEvent, type Deps, onEvent, parameterDescription, RETRY, type SsmApi } from '../../lambda/ssm-activation/index.mjs';

const CODE = 'secret-activation-code-0123456789';
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);

/** Records every SSM call; `fail` decides, per call, whether and how it throws. */
function fakeSsm(fail: (method: string, callIndex: number) => Error | undefined = () => undefined) {
  const calls: Array<{ method: string; input: Record<string, unknown> }> = [];
  const params = new Map<string, { Description?: string }>();
  const call = async <T>(method: string, input: Record<string, unknown>, result: () => T): Promise<T> => {
    calls.push({ method, input });
    const err = fail(method, calls.filter((c) => c.method === method).length);
    if (err) throw err;
    return result();
  };
  const ssm: SsmApi = {
    createActivation: (input) => call('createActivation', input, () => ({ ActivationId: 'act-1', ActivationCode: CODE })),
    deleteActivation: (input) => call('deleteActivation', input, () => ({})),
    putParameter: (input) =>
      call('putParameter', input, () => {
        params.set(String(input.Name), { Description: String(input.Description) });
        return {};
      }),
    deleteParameter: (input) => call('deleteParameter', input, () => ({})),
    describeParameters: (input) =>
      call('describeParameters', input, () => ({ Parameters: [...params].map(([Name, p]) => ({ Name, ...p })) })),
  };
  return { ssm, calls, params };
}

function deps(ssm: SsmApi, lines: string[] = [], sleeps: number[] = []): Deps {
  return { ssm, now: () => NOW, random: () => 0.5, sleep: async (ms) => void sleeps.push(ms), log: (l) => void lines.push(l) };
}

const props = {
  IamRole: 'device-role',
  RegistrationLimit: '3',
  ExpiryHours: '24',
  DefaultInstanceName: 'tunnel-device',
  Description: 'devices',
  ParameterName: '/tunnel/ecs-anywhere/activation-code',
};
const create: ActivationEvent = { RequestType: 'Create', ResourceProperties: props };
const iamNotYet = () =>
  Object.assign(new Error('Nonexistent role or missing ssm service principal in trust policy: arn:aws:iam::1:role/x'), {
    name: 'ValidationException',
  });

describe('SSM activation handler', () => {
  it('creates an activation with the limit and an expiry, and keeps the code in a SecureString only', async () => {
    const { ssm, calls } = fakeSsm();
    const lines: string[] = [];
    const result = await onEvent(create, deps(ssm, lines));
    expect(calls[0]).toEqual({
      method: 'createActivation',
      input: {
        IamRole: 'device-role',
        RegistrationLimit: 3,
        DefaultInstanceName: 'tunnel-device',
        Description: 'devices',
        ExpirationDate: new Date(NOW + 24 * 3_600_000),
      },
    });
    expect(calls[1]).toEqual({
      method: 'putParameter',
      input: { Name: props.ParameterName, Type: 'SecureString', Value: CODE, Overwrite: true, Description: parameterDescription('act-1') },
    });
    // The code is nowhere CloudFormation or the logs could show it.
    expect(result.PhysicalResourceId).toBe('act-1');
    expect(JSON.stringify(result)).not.toContain(CODE);
    expect(lines.join('\n')).not.toContain(CODE);
    expect(result.Data).toMatchObject({
      ActivationId: 'act-1',
      ParameterName: props.ParameterName,
      ExpirationDate: '2026-11-29T12:00:00.000Z',
    });
  });

  it('retries while IAM has not propagated the new role, with growing jittered delays', async () => {
    const { ssm, calls } = fakeSsm((method, n) => (method === 'createActivation' && n <= 3 ? iamNotYet() : undefined));
    const sleeps: number[] = [];
    const result = await onEvent(create, deps(ssm, [], sleeps));
    expect(result.PhysicalResourceId).toBe('act-1');
    expect(calls.filter((c) => c.method === 'createActivation')).toHaveLength(4);
    // random() = 0.5: half of 1 s, 2 s, 4 s
    expect(sleeps).toEqual([500, 1000, 2000]);
  });

  it('gives up after a bounded number of attempts, and at once on an error retrying cannot fix', async () => {
    const stuck = fakeSsm((method) => (method === 'createActivation' ? iamNotYet() : undefined));
    const sleeps: number[] = [];
    await expect(onEvent(create, deps(stuck.ssm, [], sleeps))).rejects.toThrow(/Nonexistent role/);
    expect(stuck.calls).toHaveLength(RETRY.attempts);
    expect(Math.max(...sleeps)).toBeLessThanOrEqual(RETRY.capMs);
    const denied = fakeSsm((method) =>
      method === 'createActivation' ? Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' }) : undefined,
    );
    await expect(onEvent(create, deps(denied.ssm))).rejects.toThrow(/not allowed/);
    expect(denied.calls).toHaveLength(1);
  });

  it('rejects an expiry or limit SSM would not take, before calling it', async () => {
    const { ssm, calls } = fakeSsm();
    await expect(onEvent({ ...create, ResourceProperties: { ...props, ExpiryHours: '721' } }, deps(ssm))).rejects.toThrow(
      /ExpiryHours must be 1-720/,
    );
    await expect(onEvent({ ...create, ResourceProperties: { ...props, RegistrationLimit: '0' } }, deps(ssm))).rejects.toThrow(
      /RegistrationLimit/,
    );
    expect(calls).toEqual([]);
  });

  it('deletes the activation again when the code cannot be stored', async () => {
    const { ssm, calls } = fakeSsm((method) =>
      method === 'putParameter' ? Object.assign(new Error('kms'), { name: 'AccessDeniedException' }) : undefined,
    );
    await expect(onEvent(create, deps(ssm))).rejects.toThrow(/kms/);
    expect(calls.map((c) => c.method)).toEqual(['createActivation', 'putParameter', 'deleteActivation']);
  });

  it('on delete removes the activation, and the parameter only while it holds that activation', async () => {
    const { ssm, calls, params } = fakeSsm();
    await onEvent(create, deps(ssm));
    // An update made activation act-2 and overwrote the parameter; the old act-1 is then deleted.
    params.set(props.ParameterName, { Description: parameterDescription('act-2') });
    await onEvent({ RequestType: 'Delete', PhysicalResourceId: 'act-1', ResourceProperties: props }, deps(ssm));
    expect(calls.filter((c) => c.method === 'deleteParameter')).toEqual([]);
    await onEvent({ RequestType: 'Delete', PhysicalResourceId: 'act-2', ResourceProperties: props }, deps(ssm));
    expect(calls.filter((c) => c.method === 'deleteParameter')).toEqual([
      { method: 'deleteParameter', input: { Name: props.ParameterName } },
    ]);
    expect(calls.filter((c) => c.method === 'deleteActivation').map((c) => c.input.ActivationId)).toEqual(['act-1', 'act-2']);
  });

  it('treats an activation that is already gone as deleted', async () => {
    const { ssm } = fakeSsm((method) =>
      method === 'deleteActivation' ? Object.assign(new Error('gone'), { name: 'InvalidActivation' }) : undefined,
    );
    await expect(onEvent({ RequestType: 'Delete', PhysicalResourceId: 'act-9', ResourceProperties: props }, deps(ssm))).resolves.toEqual({
      PhysicalResourceId: 'act-9',
    });
  });
});
