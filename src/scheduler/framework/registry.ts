// Plugin registry (framework/runtime/registry.go): plugin name → factory. Profiles name plugins; the
// framework builds them from here, so out-of-tree plugins are one `register` call.

import type { PluginFactory } from './interface.js';

export class Registry {
  private readonly factories = new Map<string, PluginFactory>();

  constructor(entries: Iterable<[string, PluginFactory]> = []) {
    for (const [n, f] of entries) this.register(n, f);
  }

  register(name: string, factory: PluginFactory): void {
    if (this.factories.has(name)) throw new Error(`a plugin named ${name} already exists`);
    this.factories.set(name, factory);
  }

  get(name: string): PluginFactory | undefined {
    return this.factories.get(name);
  }

  names(): string[] {
    return [...this.factories.keys()];
  }

  /** A copy with more plugins (for tests and out-of-tree plugins). */
  merge(other: Registry): Registry {
    const r = new Registry(this.factories);
    for (const n of other.names()) r.register(n, other.get(n)!);
    return r;
  }
}
