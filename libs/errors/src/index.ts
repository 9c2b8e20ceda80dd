// The one error hierarchy (CodedError, which every typed error extends) and the registry machinery
// that keeps each registry of codes and docs/ERRORS.md in step. Pure: depends on nothing.
export { CodedError } from './coded-error.ts';
export {
  documentedCodes,
  ERROR_CODE_PATTERN,
  registryDocProblems,
  type DocumentedCode,
  type ErrorRegistry,
  type RegistryDoc,
} from './registry.ts';
