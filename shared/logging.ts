/**
 * Logging with LogTape: `LOG_LEVEL` picks the lowest level written and
 * `LOG_FORMAT` picks `pretty` (coloured text for people) or `json` (one JSON
 * object per line for log collectors). Log lines go to standard error, so
 * standard output stays free for a program's own output. JSON lines written
 * while a span is active carry its `trace_id` and `span_id`.
 *
 * @module
 */
import {
  configureSync,
  getAnsiColorFormatter,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type Logger,
  type LogRecord,
  resetSync,
  type Sink,
} from "@logtape/logtape";
import type { LOG_LEVELS } from "./config.ts";
import { activeSpanIds } from "./telemetry/mod.ts";

/** Options of {@link setupLogging}. */
export interface LoggingOptions {
  /** The lowest level written. */
  level: typeof LOG_LEVELS[number];
  /** `pretty` for people, `json` for collectors. */
  format: "pretty" | "json";
  /** Colour `pretty` lines (for a terminal); plain text otherwise. */
  color?: boolean;
  /** Where each formatted line goes; standard error by default (written synchronously, so no line is lost at exit). */
  write?: (line: string) => void;
}

/** The root category of every logger of the project. */
export const ROOT_CATEGORY = "sorcha";

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line));
}

function lineSink(format: (record: LogRecord) => string, write: (line: string) => void): Sink {
  return (record) => write(format(record));
}

/**
 * `format` with the active span's ids added as the record's `trace_id` and
 * `span_id` properties, when a span is active (OpenTelemetry on).
 */
export function withTraceIds(format: (record: LogRecord) => string): (record: LogRecord) => string {
  return (record) => {
    const ids = activeSpanIds();
    if (!ids) return format(record);
    return format({
      ...record,
      properties: { ...record.properties, trace_id: ids.traceId, span_id: ids.spanId },
    });
  };
}

/** Configures logging once for the process (a later call replaces the configuration). */
export function setupLogging(options: LoggingOptions): void {
  resetSync();
  configureSync({
    sinks: {
      out: lineSink(
        options.format === "json"
          ? withTraceIds(jsonLinesFormatter)
          : options.color
          ? getAnsiColorFormatter({ value: "bare" })
          : getTextFormatter({ value: "bare" }),
        options.write ?? writeStderr,
      ),
    },
    loggers: [
      { category: [ROOT_CATEGORY], lowestLevel: options.level, sinks: ["out"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["out"] },
    ],
  });
}

/** A logger under the project's root category, such as `log("peer", "store")`. */
export function log(...category: string[]): Logger {
  return getLogger([ROOT_CATEGORY, ...category]);
}
