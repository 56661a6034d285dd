import { AsyncLocalStorage } from 'node:async_hooks';
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';

/**
 * The AsyncLocalStorage context manager (the stock one's `bind` for functions and event emitters),
 * on a storage otelkit holds, so a server request's context can be entered directly from Node's
 * `http.server.request.start` channel (`enter`), which runs just before the request's handler.
 */
export class OtelkitContextManager extends AsyncLocalStorageContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();

  override active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const callback = thisArg === undefined || thisArg === null ? fn : fn.bind(thisArg);
    return this.storage.run(context, callback as (...args: A) => ReturnType<F>, ...args);
  }

  override enable(): this {
    return this;
  }

  override disable(): this {
    this.storage.disable();
    return this;
  }

  override attach(context: Context): { [Symbol.dispose](): void; dispose(): void } {
    const previous = this.active();
    this.storage.enterWith(context);
    let disposed = false;
    const dispose = (): void => {
      if (disposed) return;
      disposed = true;
      this.storage.enterWith(previous);
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  /** Makes `context` the active one for the rest of this synchronous run and what it starts. */
  enter(context: Context): void {
    this.storage.enterWith(context);
  }
}
