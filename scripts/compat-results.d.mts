// Types of compat-results.mjs, for test-support/compat-results-reporter.ts.
export interface SuiteFileResults {
  file: string;
  tests: { ancestors: string[]; title: string; state: string }[];
}
export const root: string;
export const RESULTS_FILE: string;
export const CACHE_DIR: string;
export const SUITE: RegExp[];
export function inSuite(file: string): boolean;
export function render(results: SuiteFileResults[]): string;
