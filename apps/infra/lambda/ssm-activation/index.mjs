// Custom-resource handler (CDK Provider framework, onEvent) for the ECS Anywhere SSM activation.
// CloudFormation has no AWS::SSM::Activation, and a stack output would show the activation code
// to anyone allowed DescribeStacks, so this function:
//   Create/Update: ssm:CreateActivation (expiration date and registration limit set), then stores
//                  the code in a SecureString parameter. The code never leaves the function
//                  otherwise: not in the response, not in a log line.
//   Delete:        ssm:DeleteActivation, and the parameter if it still holds this activation.
// IAM is eventually consistent: CreateActivation right after the role was created fails for a
// while ("Nonexistent role or missing ssm service principal in trust policy"). Such errors and
// throttling are retried with exponential backoff and full jitter, a bounded number of times.
// Plain JavaScript (ESM), no bundling: the Lambda runtime provides @aws-sdk/client-ssm.

/** Retry policy: attempts in all, first delay and cap of the backoff, ms. */
export const RETRY = Object.freeze({ attempts: 8, baseMs: 1000, capMs: 20_000 });

/** Errors worth retrying: IAM propagation, throttling, transient service errors. */
export function isRetryable(err) {
  const name = err?.name ?? '';
  const message = String(err?.message ?? '');
  if (name === 'ThrottlingException' || name === 'TooManyUpdates' || name === 'InternalServerError') return true;
  if (err?.$retryable || (err?.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return name === 'ValidationException' && /role|trust policy/i.test(message);
}

/** Runs `fn`, retrying retryable errors with full-jitter exponential backoff. */
export async function withRetry(fn, deps, what) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= RETRY.attempts || !isRetryable(err)) throw err;
      const delay = Math.floor(deps.random() * Math.min(RETRY.capMs, RETRY.baseMs * 2 ** (attempt - 1)));
      deps.log(`${what} failed (${err.name}), attempt ${attempt} of ${RETRY.attempts}; retrying in ${delay} ms`);
      await deps.sleep(delay);
    }
  }
}

/** Description of the parameter; names the activation, so a stale delete leaves a newer code alone. */
export function parameterDescription(activationId) {
  return `ECS Anywhere activation code (activation ${activationId})`;
}

async function create(props, deps) {
  const hours = Number(props.ExpiryHours);
  const limit = Number(props.RegistrationLimit);
  if (!(hours >= 1 && hours <= 720)) throw new Error(`ExpiryHours must be 1-720, got ${props.ExpiryHours}`);
  if (!(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
    throw new Error(`RegistrationLimit must be 1-1000, got ${props.RegistrationLimit}`);
  const expirationDate = new Date(deps.now() + hours * 3_600_000);
  const created = await withRetry(
    () =>
      deps.ssm.createActivation({
        IamRole: props.IamRole,
        RegistrationLimit: limit,
        DefaultInstanceName: props.DefaultInstanceName,
        Description: props.Description,
        ExpirationDate: expirationDate,
      }),
    deps,
    'ssm:CreateActivation',
  );
  const activationId = created.ActivationId;
  try {
    await withRetry(
      () =>
        deps.ssm.putParameter({
          Name: props.ParameterName,
          Type: 'SecureString',
          Value: created.ActivationCode,
          Overwrite: true,
          Description: parameterDescription(activationId),
        }),
      deps,
      'ssm:PutParameter',
    );
  } catch (err) {
    // No one can read the code now: do not leave a working activation behind.
    await deps.ssm.deleteActivation({ ActivationId: activationId }).catch(() => {});
    throw err;
  }
  deps.log(`created activation ${activationId} (limit ${limit}, expires ${expirationDate.toISOString()}); code in ${props.ParameterName}`);
  return {
    PhysicalResourceId: activationId,
    Data: { ActivationId: activationId, ParameterName: props.ParameterName, ExpirationDate: expirationDate.toISOString() },
  };
}

async function remove(activationId, props, deps) {
  await deps.ssm.deleteActivation({ ActivationId: activationId }).catch((err) => {
    // Deleted by hand, or expired and purged: nothing left to do.
    if (err?.name !== 'InvalidActivation') throw err;
  });
  const found = await deps.ssm.describeParameters({ ParameterFilters: [{ Key: 'Name', Values: [props.ParameterName] }] });
  const current = found.Parameters?.[0];
  // An update made a newer activation and overwrote the parameter: that code stays.
  if (current && current.Description === parameterDescription(activationId)) {
    await deps.ssm.deleteParameter({ Name: props.ParameterName }).catch((err) => {
      if (err?.name !== 'ParameterNotFound') throw err;
    });
  }
  deps.log(`deleted activation ${activationId}`);
  return { PhysicalResourceId: activationId };
}

/** The handler's logic, with the SSM client and the clock injected (tests pass fakes). */
export async function onEvent(event, deps) {
  const props = event.ResourceProperties;
  switch (event.RequestType) {
    case 'Create':
    case 'Update':
      // A new activation on every change: activations cannot be modified. CloudFormation then
      // sends a Delete for the old physical id, which removes the old activation.
      return create(props, deps);
    case 'Delete':
      return remove(event.PhysicalResourceId, props, deps);
    default:
      throw new Error(`unknown request type ${event.RequestType}`);
  }
}

/** Lambda entry point. */
export async function handler(event) {
  const { SSM } = await import('@aws-sdk/client-ssm');
  const ssm = new SSM({});
  return onEvent(event, {
    ssm,
    now: () => Date.now(),
    random: Math.random,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log: (line) => console.log(line),
  });
}
