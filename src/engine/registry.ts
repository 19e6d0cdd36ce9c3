/**
 * The component registry: every input, processor, output, cache and rate limit is a
 * ComponentSpec registered by name. The app's wiring (src/cli) fills it; the engine only reads.
 */
import type { AnyComponentSpec, ComponentKind, ComponentSpec } from './component.js';
import { sluiceError } from './errors.js';

/** A component as it appears after validation: type, label, defaulted config, own processors. */
export interface ComponentNode {
  readonly type: string;
  readonly label: string;
  readonly config: unknown;
  /** Input/output `processors` (empty elsewhere). */
  readonly processors: readonly ComponentNode[];
  /** Config path, e.g. `output.broker.outputs[1]`. */
  readonly path: string;
}

/** `resource: <label>` stands where a component is expected. */
export const RESOURCE_TYPE = 'resource';

export class Registry {
  readonly #specs = new Map<ComponentKind, Map<string, AnyComponentSpec>>();

  add<K extends ComponentKind, C>(spec: ComponentSpec<K, C>): this {
    let byName = this.#specs.get(spec.kind);
    if (!byName) this.#specs.set(spec.kind, (byName = new Map()));
    if (byName.has(spec.name)) throw new Error(`${spec.kind} ${spec.name} registered twice`);
    byName.set(spec.name, spec as unknown as AnyComponentSpec);
    return this;
  }

  addAll(specs: readonly { readonly kind: ComponentKind; readonly name: string }[]): this {
    for (const s of specs) this.add(s as ComponentSpec);
    return this;
  }

  get(kind: ComponentKind, name: string): AnyComponentSpec | undefined {
    return this.#specs.get(kind)?.get(name);
  }

  /** Like get, but an unknown name is an error that lists the known ones of that kind. */
  require(kind: ComponentKind, name: string): AnyComponentSpec {
    const s = this.get(kind, name);
    if (!s) throw sluiceError('SLU_ERR_COMPONENT_UNKNOWN', kind, name, this.names(kind).join(', '));
    return s;
  }

  names(kind: ComponentKind): string[] {
    return [...(this.#specs.get(kind)?.keys() ?? [])].sort();
  }

  all(kind: ComponentKind): AnyComponentSpec[] {
    return this.names(kind).map((n) => this.#specs.get(kind)!.get(n)!);
  }

  kinds(): ComponentKind[] {
    return ['input', 'processor', 'output', 'cache', 'rate_limit'];
  }
}
