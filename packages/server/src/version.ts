import pkg from '../package.json' with { type: 'json' };

/** This package's version, reported by `/health` and `wallcrawler --version`. */
export const VERSION: string = pkg.version;
