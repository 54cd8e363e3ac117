interface EnvironmentGlobals {
  process?: { env?: Record<string, string | undefined> };
  Deno?: { env?: { get?(name: string): string | undefined } };
}

/**
 * An environment variable, trimmed, or `undefined` when unset or blank.
 *
 * Goes through `globalThis` so it also loads where `process` does not exist (browsers, edge runtimes), where
 * it simply finds nothing.
 */
export function readEnv(name: string): string | undefined {
  const globals = globalThis as EnvironmentGlobals;
  let value: string | undefined;
  try {
    value = globals.process?.env?.[name] ?? globals.Deno?.env?.get?.(name);
  } catch {
    // Deno throws without --allow-env: treat as unset.
    return undefined;
  }
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
