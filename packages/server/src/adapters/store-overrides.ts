import type { Store } from '../ports/store.js';

/** `store` with some of its methods replaced; every other method is the store's own, bound to it. */
export function overrideStore<S extends Store>(store: S, overrides: Partial<Store>): S {
  return new Proxy(store, {
    get(target, property, receiver) {
      const override = overrides[property as keyof Store];
      if (override) return override;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
