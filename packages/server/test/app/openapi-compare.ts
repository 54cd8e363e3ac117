/**
 * Compares two OpenAPI 3.1 documents by what a client can observe: paths and methods, operationIds, parameters,
 * request bodies, responses (status codes, headers, JSON schemas), the component schemas they reach, security
 * schemes and requirements. Documentation (descriptions, summaries, titles, examples, tags, info, servers,
 * externalDocs) and spelling choices that mean the same thing (`$ref` vs inline, `allOf` of objects vs one
 * object, `additionalProperties: {}` vs `true`, key and list order) are normalised away first.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** One way the documents differ: where, and the value on each side (`undefined` = absent). */
export interface Difference {
  path: string;
  expected: Json | undefined;
  actual: Json | undefined;
}

/** What is compared; every `$ref` is resolved in it. */
export interface NormalisedContract {
  openapi: Json | undefined;
  /** Top-level security alternatives, each as `Scheme[scopes]+Scheme[]`, sorted. */
  security: string[];
  securitySchemes: JsonObject;
  /** Keyed `METHOD /path`. */
  operations: JsonObject;
  /** The component schemas reachable from the operations, by name. */
  schemas: JsonObject;
}

/** Keys that only document; dropped wherever they are keywords (never where they name a property). */
const DOC_KEYS = new Set([
  'description',
  'summary',
  'title',
  'example',
  'examples',
  'tags',
  'externalDocs',
  '$comment',
]);
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** Schema keywords whose value is a map of name → schema. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** Schema keywords whose value is one schema. */
const SCHEMA_SINGLES = new Set([
  'items',
  'additionalProperties',
  'not',
  'contains',
  'propertyNames',
  'if',
  'then',
  'else',
  'unevaluatedProperties',
  'unevaluatedItems',
  'additionalItems',
  'contentSchema',
]);
/** Schema keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const stable = (value: unknown): string => JSON.stringify(sortKeys(value as Json));

function sortKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k] as Json)]),
  );
}

/** Normalises one document. */
export function normaliseOpenApi(doc: unknown): NormalisedContract {
  if (!isObject(doc)) throw new Error('an OpenAPI document must be an object');
  const root = doc;

  const lookup = (ref: string): Json => {
    if (!ref.startsWith('#/')) throw new Error(`only local $refs are supported, got ${ref}`);
    let node: Json | undefined = root;
    for (const raw of ref.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      node = isObject(node) ? node[key] : undefined;
    }
    if (node === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return node;
  };

  /** Resolves a non-schema `$ref` (parameters, responses, request bodies, headers), siblings dropped as docs. */
  const deref = (node: Json | undefined, seen: string[] = []): Json | undefined => {
    if (!isObject(node) || typeof node.$ref !== 'string') return node;
    if (seen.includes(node.$ref)) throw new Error(`circular $ref ${node.$ref}`);
    return deref(lookup(node.$ref), [...seen, node.$ref]);
  };

  const schema = (node: Json | undefined, stack: string[] = []): Json | undefined => {
    if (node === undefined || typeof node === 'boolean' || !isObject(node)) return node;
    const { $ref, ...rest } = node;
    const own: JsonObject = {};
    for (const [key, value] of Object.entries(rest)) {
      if (DOC_KEYS.has(key)) continue;
      if (SCHEMA_MAPS.has(key) && isObject(value)) {
        own[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, schema(v, stack) as Json]));
      } else if (SCHEMA_SINGLES.has(key)) {
        own[key] = schema(value, stack) as Json;
      } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
        own[key] = value.map((v) => schema(v, stack) as Json);
      } else if ((key === 'required' || key === 'enum' || key === 'type') && Array.isArray(value)) {
        own[key] = [...new Set(value.map((v) => stable(v)))].sort().map((v) => JSON.parse(v) as Json);
      } else {
        own[key] = value;
      }
    }
    // `additionalProperties: {}` (what zod renders) and `true` both allow anything.
    if (isObject(own.additionalProperties) && Object.keys(own.additionalProperties).length === 0) {
      own.additionalProperties = true;
    }
    if (typeof $ref === 'string') {
      // A cycle stays a named reference, so recursion ends.
      const target = stack.includes($ref) ? { $ref } : schema(lookup($ref), [...stack, $ref]);
      if (Object.keys(own).length === 0) return target;
      return mergeAllOf({ allOf: [target as Json, own] });
    }
    return mergeAllOf(own);
  };

  const content = (node: Json | undefined): Json | undefined => {
    if (!isObject(node)) return node;
    return Object.fromEntries(
      Object.entries(node).map(([mediaType, media]) => {
        if (!isObject(media)) return [mediaType, media];
        const out: JsonObject = {};
        for (const [key, value] of Object.entries(media)) {
          if (DOC_KEYS.has(key)) continue;
          out[key] = key === 'schema' ? (schema(value) as Json) : value;
        }
        return [mediaType, out];
      }),
    );
  };

  /** Parameters and headers: the schema normalised, `required` defaulted, docs dropped. */
  const parameterLike = (node: Json | undefined, requiredByDefault = false): JsonObject => {
    const resolved = deref(node);
    if (!isObject(resolved)) throw new Error(`not a parameter: ${stable(resolved)}`);
    const out: JsonObject = { required: requiredByDefault };
    for (const [key, value] of Object.entries(resolved)) {
      if (DOC_KEYS.has(key)) continue;
      if (key === 'schema') out.schema = schema(value) as Json;
      else if (key === 'content') out.content = content(value) as Json;
      else out[key] = value;
    }
    return out;
  };

  const parameterKey = (p: JsonObject) => {
    const name = String(p.name);
    // Header names are case-insensitive on the wire.
    return `${p.in} ${p.in === 'header' ? name.toLowerCase() : name}`;
  };

  const parameters = (pathLevel: Json | undefined, operationLevel: Json | undefined): JsonObject => {
    const out: JsonObject = {};
    for (const list of [pathLevel, operationLevel]) {
      for (const p of Array.isArray(list) ? list : []) {
        const resolved = deref(p);
        if (!isObject(resolved)) continue;
        const normal = parameterLike(resolved, resolved.in === 'path');
        out[parameterKey(resolved)] = normal;
      }
    }
    return out;
  };

  const responses = (node: Json | undefined): JsonObject => {
    const out: JsonObject = {};
    for (const [status, raw] of Object.entries(isObject(node) ? node : {})) {
      const response = deref(raw);
      if (!isObject(response)) continue;
      const normal: JsonObject = {};
      for (const [key, value] of Object.entries(response)) {
        if (DOC_KEYS.has(key)) continue;
        if (key === 'content') normal.content = content(value) as Json;
        else if (key === 'headers' && isObject(value)) {
          normal.headers = Object.fromEntries(
            Object.entries(value).map(([name, header]) => [name.toLowerCase(), parameterLike(header)]),
          );
        } else normal[key] = value;
      }
      out[status] = normal;
    }
    return out;
  };

  const security = (node: Json | undefined): string[] =>
    (Array.isArray(node) ? node : [])
      .map((requirement) =>
        Object.entries(isObject(requirement) ? requirement : {})
          .map(([name, scopes]) => `${name}[${(Array.isArray(scopes) ? scopes.map(String) : []).sort().join(',')}]`)
          .sort()
          .join('+'),
      )
      .sort();

  const operations: JsonObject = {};
  const paths = isObject(root.paths) ? root.paths : {};
  for (const [path, rawItem] of Object.entries(paths)) {
    const item = deref(rawItem);
    if (!isObject(item)) continue;
    for (const method of METHODS) {
      const op = item[method];
      if (!isObject(op)) continue;
      const normal: JsonObject = {
        operationId: op.operationId ?? null,
        parameters: parameters(item.parameters, op.parameters),
        responses: responses(op.responses),
        security: security(op.security ?? root.security),
      };
      const body = deref(op.requestBody);
      if (isObject(body)) {
        normal.requestBody = { required: body.required ?? false, content: content(body.content) as Json };
      }
      for (const [key, value] of Object.entries(op)) {
        if (key in normal || DOC_KEYS.has(key) || key === 'requestBody' || key === 'servers') continue;
        normal[key] = value;
      }
      operations[`${method.toUpperCase()} ${path}`] = normal;
    }
  }

  const components = isObject(root.components) ? root.components : {};
  const schemaComponents = isObject(components.schemas) ? components.schemas : {};
  const schemas: JsonObject = {};
  for (const name of reachableSchemaNames(root, lookup)) {
    schemas[name] = schema(schemaComponents[name], [`#/components/schemas/${name}`]) as Json;
  }

  const schemes = isObject(components.securitySchemes) ? components.securitySchemes : {};
  const securitySchemes = Object.fromEntries(
    Object.entries(schemes).map(([name, scheme]) => [
      name,
      Object.fromEntries(Object.entries(isObject(scheme) ? scheme : {}).filter(([k]) => !DOC_KEYS.has(k))),
    ]),
  );

  return sortKeys({
    openapi: root.openapi ?? null,
    security: security(root.security),
    securitySchemes,
    operations,
    schemas,
  } as JsonObject) as unknown as NormalisedContract;
}

/** Names of `components.schemas` reachable from `paths`, through any chain of `$ref`s. */
function reachableSchemaNames(root: JsonObject, lookup: (ref: string) => Json): string[] {
  const names = new Set<string>();
  const visited = new Set<string>();
  const walk = (node: Json | undefined) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!isObject(node)) return;
    if (typeof node.$ref === 'string' && !visited.has(node.$ref)) {
      visited.add(node.$ref);
      const match = /^#\/components\/schemas\/(.+)$/.exec(node.$ref);
      if (match?.[1]) names.add(match[1]);
      walk(lookup(node.$ref));
    }
    for (const value of Object.values(node)) walk(value);
  };
  walk(root.paths);
  return [...names].sort();
}

/**
 * `allOf` whose members are all object schemas becomes one object schema (properties merged, `required`
 * united). Anything that would conflict is left as `allOf`.
 */
function mergeAllOf(node: JsonObject): JsonObject {
  const { allOf, ...rest } = node;
  if (!Array.isArray(allOf)) return node;
  const members = [...allOf, ...(Object.keys(rest).length ? [rest] : [])].flatMap((m) =>
    isObject(m) && Array.isArray(m.allOf) && Object.keys(m).length === 1 ? m.allOf : [m],
  );
  const merged: JsonObject = {};
  for (const member of members) {
    if (!isObject(member) || (member.type !== undefined && member.type !== 'object')) return node;
    if (member.anyOf || member.oneOf || member.allOf || member.$ref) return node;
    for (const [key, value] of Object.entries(member)) {
      if (key === 'properties' && isObject(value)) {
        const properties = isObject(merged.properties) ? { ...merged.properties } : {};
        for (const [name, property] of Object.entries(value)) {
          if (name in properties && stable(properties[name]) !== stable(property)) return node;
          properties[name] = property;
        }
        merged.properties = properties;
      } else if (key === 'required' && Array.isArray(value)) {
        const required = Array.isArray(merged.required) ? merged.required : [];
        merged.required = [...new Set([...required, ...value].map(String))].sort();
      } else if (key in merged) {
        if (stable(merged[key]) !== stable(value)) return node;
      } else {
        merged[key] = value;
      }
    }
  }
  return merged;
}

/** Every difference between two normalised contracts, in document order. */
export function diffContracts(expected: NormalisedContract, actual: NormalisedContract): Difference[] {
  const out: Difference[] = [];
  const walk = (a: Json | undefined, b: Json | undefined, path: string) => {
    if (isObject(a) && isObject(b)) {
      for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        walk(a[key], b[key], `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`);
      }
      return;
    }
    if (stable(a) !== stable(b)) out.push({ path: path.replace(/^\./, ''), expected: a, actual: b });
  };
  walk(expected as unknown as Json, actual as unknown as Json, '');
  return out;
}

/** The differences as a readable report (one block per difference, long values shortened). */
export function formatDifferences(
  differences: readonly Difference[],
  { expectedName = 'openapi.yaml', actualName = 'server', limit = 60 } = {},
): string {
  const show = (value: Json | undefined) => {
    if (value === undefined) return '(absent)';
    const text = JSON.stringify(value);
    return text.length > 240 ? `${text.slice(0, 237)}...` : text;
  };
  const width = Math.max(expectedName.length, actualName.length) + 1;
  const blocks = differences
    .slice(0, limit)
    .map(
      (d) =>
        `  ${d.path}\n    ${`${expectedName}:`.padEnd(width)} ${show(d.expected)}\n    ${`${actualName}:`.padEnd(width)} ${show(d.actual)}`,
    );
  const more = differences.length > limit ? `\n  ... and ${differences.length - limit} more` : '';
  return `${differences.length} difference(s):\n${blocks.join('\n')}${more}`;
}
