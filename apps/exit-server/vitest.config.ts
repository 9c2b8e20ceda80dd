import { suiteConfig } from '../../vitest.shared.ts';

export default suiteConfig('exit-server');
