import { infraSchema, loadConfigOrExit } from '@tunnel/config';
import { buildInfraApp } from './infra-app.ts';
import { infraConfigEnv } from './infra-config.ts';

// The CDK CLI runs this file and collects the cloud assembly the app writes when the process exits.
// A bad config exits 2 with a one-line message naming the option, as the other apps do.
const argv = process.argv.slice(2);
buildInfraApp(loadConfigOrExit(infraSchema, argv, infraConfigEnv({ argv, env: process.env })));
