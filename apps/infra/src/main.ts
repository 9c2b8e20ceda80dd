import { buildInfraApp } from './infra-app.ts';

// The CDK CLI runs this file and collects the cloud assembly the app writes when the process exits.
buildInfraApp();
