// Preloaded with `node --import` into a server under test: appends every module it loads, one URL or path a
// line, to the file `WALLCRAWLER_TEST_MODULE_LOG` names. ES modules through a load hook; CommonJS ones, which
// `require` loads past the ESM hooks, through `Module._load`.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.WALLCRAWLER_TEST_MODULE_LOG;
if (log) {
  register(
    `data:text/javascript,${encodeURIComponent(`
      import { appendFileSync } from 'node:fs';
      export async function load(url, context, next) {
        appendFileSync(${JSON.stringify(log)}, url + '\\n');
        return next(url, context);
      }`)}`,
  );
  const load = Module._load;
  Module._load = function (request, parent, isMain) {
    const exports = load.call(this, request, parent, isMain);
    let path = request;
    try {
      path = Module._resolveFilename(request, parent, isMain);
    } catch {}
    appendFileSync(log, `${path}\n`);
    return exports;
  };
}
