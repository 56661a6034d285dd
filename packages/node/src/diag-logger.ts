import { format } from 'node:util';
import type { DiagLogger } from '@opentelemetry/api';

/**
 * Writes every diagnostic line to stderr (OpenTelemetry's `DiagConsoleLogger` sends info and debug to
 * stdout, where they would mix with an app's JSON logs).
 */
export class StderrDiagLogger implements DiagLogger {
  error = this.writer('error');
  warn = this.writer('warn');
  info = this.writer('info');
  debug = this.writer('debug');
  verbose = this.writer('verbose');

  private writer(level: string): (message: string, ...args: unknown[]) => void {
    return (message, ...args) => {
      try {
        process.stderr.write(`${level}: ${format(message, ...args)}\n`);
      } catch {
        // stderr closed: nothing sensible left to do with a diagnostic.
      }
    };
  }
}
