import type { Attributes, Meter } from '@opentelemetry/api';
import { reportOnce } from './diagnostics.js';
import { createOperationTimer } from './timing.js';

/** Options of {@link timed}. */
export type TimedOptions = {
  /** `operation.type` of every measurement, e.g. `db`, `http`, `job`. */
  type?: string;
  /** Extra attributes of every measurement (fixed values only: they become metric attributes). */
  attributes?: Attributes;
  /** Meter to record through. @default otelkit's bound histograms (see `createOperationTimer`) */
  meter?: Meter;
};

type Method<This, Args extends unknown[], Return> = (this: This, ...args: Args) => Return;

/**
 * A method decorator from {@link timed}: a TC39 standard decorator (TypeScript 5, no flag), and a
 * legacy one too (`experimentalDecorators`, as NestJS and older TypeScript projects compile).
 */
export interface TimedDecorator {
  <This, Args extends unknown[], Return>(method: Method<This, Args, Return>, context: ClassMethodDecoratorContext<This, Method<This, Args, Return>>): Method<This, Args, Return>;
  (target: object, propertyKey: string | symbol, descriptor: PropertyDescriptor): PropertyDescriptor;
}

/**
 * Times every call of a method into `operation.duration` (`operation.name` = `name`, with
 * `operation.outcome` and, on failure, `error.type`), as `createOperationTimer().measure` does: sync
 * methods until they return or throw, methods returning a native promise (async methods) until it
 * settles. The result, the returned promise, the error and `this` are the method's own, untouched.
 *
 * @example
 * class Users {
 *   @timed('users.find', { type: 'db' })
 *   async find(id: number) { ... }
 * }
 */
export function timed(name: string, options: TimedOptions = {}): TimedDecorator {
  const timer = createOperationTimer({ type: options.type, meter: options.meter });
  const attributes = options.attributes;
  const wrap = <This, Args extends unknown[], Return>(method: Method<This, Args, Return>): Method<This, Args, Return> => {
    const timedMethod = function (this: This, ...args: Args): Return {
      return timer.measure(name, () => method.apply(this, args), attributes);
    };
    keepIdentity(timedMethod, method);
    return timedMethod;
  };
  return ((method: unknown, context: unknown, descriptor?: PropertyDescriptor) => {
    // Legacy (experimentalDecorators): (prototype, key, descriptor).
    if (descriptor !== undefined && typeof descriptor.value === 'function') {
      return { ...descriptor, value: wrap(descriptor.value as Method<unknown, unknown[], unknown>) };
    }
    // Standard: (method, { kind: 'method', ... }).
    if (typeof method === 'function' && (context as { kind?: unknown } | undefined)?.kind === 'method') {
      return wrap(method as Method<unknown, unknown[], unknown>);
    }
    reportOnce(`timed.target.${name}`, `@timed('${name}') applies to methods only; left as it was`);
    // Legacy property decorators get (prototype, key): returning nothing leaves the property alone.
    if (typeof context === 'string' || typeof context === 'symbol') return undefined;
    return descriptor ?? method;
  }) as TimedDecorator;
}

type MetadataReflect = { getOwnMetadataKeys?: (target: object) => unknown[]; getOwnMetadata?: (key: unknown, target: object) => unknown; defineMetadata?: (key: unknown, value: unknown, target: object) => void };

/**
 * The wrapper stands for the method: its name, length and own properties, and the metadata other
 * decorators put on it (NestJS keeps routes, guards and roles there, via reflect-metadata; losing
 * them would drop a route or a guard).
 */
function keepIdentity(wrapper: object, method: object): void {
  for (const key of Reflect.ownKeys(method)) {
    if (key === 'prototype' || key === 'arguments' || key === 'caller') continue;
    const descriptor = Object.getOwnPropertyDescriptor(method, key);
    if (descriptor?.configurable || !(key in wrapper)) Object.defineProperty(wrapper, key, descriptor!);
  }
  const metadata = Reflect as unknown as MetadataReflect;
  if (typeof metadata.getOwnMetadataKeys === 'function' && typeof metadata.getOwnMetadata === 'function' && typeof metadata.defineMetadata === 'function') {
    for (const key of metadata.getOwnMetadataKeys(method)) metadata.defineMetadata(key, metadata.getOwnMetadata(key, method), wrapper);
  }
}
