import { suiteConfig } from '../../vitest.shared.ts';

export default suiteConfig('errors');
