/**
 * The hub-link process's side of `ipc.ts`: sends the link's status as it
 * changes, runs the sync requests it is sent and answers requests for its
 * metrics, until its input ends (the peer's HTTP process is gone, or
 * stopped it).
 *
 * @module
 */
import { toAppError } from "../../shared/errors.ts";
import { lines } from "../../shared/lines.ts";
import { contextOf, withContext } from "../../shared/telemetry/mod.ts";
import type { Scheduler } from "../../shared/schedule.ts";
import {
  decodeLine,
  encodeLine,
  type LinkCommand,
  type LinkMessage,
  STATUS_INTERVAL_MS,
} from "./ipc.ts";
import type { HubLinkStatus, SyncResult } from "./status.ts";

/** What the child serves: the link's status, changes and syncs. */
export interface LinkEndpoint {
  /** Everything the link reports. */
  status(): HubLinkStatus;
  /** Calls `listener` on every change; returns an unsubscribe. */
  onChange(listener: () => void): () => void;
  /** Syncs now. */
  sync(options: { full: boolean }): Promise<SyncResult>;
}

/** Options of {@link serveLinkOverPipes}. */
export interface PipeOptions {
  /** Commands from the parent (standard input). */
  input: ReadableStream<Uint8Array>;
  /** Messages to the parent (standard output). */
  output: WritableStream<Uint8Array>;
  /** Paces status messages. */
  scheduler: Scheduler;
  /** The link process's metrics in the Prometheus text format (default: none, answered ""). */
  metrics?: () => Promise<string>;
}

/** Serves `link` over the pipes; resolves once the input has ended. */
export async function serveLinkOverPipes(link: LinkEndpoint, options: PipeOptions): Promise<void> {
  const writer = options.output.getWriter();
  let writing = Promise.resolve();
  const send = (message: LinkMessage) => {
    writing = writing.then(() => writer.write(encodeLine(message))).catch(() => {});
  };
  const stop = new AbortController();
  let statusDue = false;
  const sendStatus = () => {
    if (statusDue || stop.signal.aborted) return;
    statusDue = true;
    void options.scheduler.sleep(STATUS_INTERVAL_MS, stop.signal).then(() => {
      statusDue = false;
      if (!stop.signal.aborted) send({ type: "status", status: link.status() });
    });
  };
  const unsubscribe = link.onChange(sendStatus);
  send({ type: "status", status: link.status() });
  try {
    for await (const line of lines(options.input)) {
      const command = decodeLine<LinkCommand>(line, ["sync", "metrics"]);
      if (!command) continue;
      if (command.type === "metrics") {
        const { id } = command;
        (options.metrics?.() ?? Promise.resolve("")).then(
          (text) => send({ type: "metrics", id, text }),
          () => send({ type: "metrics", id, text: "" }),
        );
        continue;
      }
      // The sync continues the requester's trace (POST /api/sync/trigger's), when it sent one.
      withContext(
        contextOf({ traceparent: command.traceparent }),
        () => link.sync({ full: command.full === true }),
      ).then(
        (result) => send({ type: "result", id: command.id, ok: true, result }),
        (error) => {
          const { code, message } = toAppError(error);
          send({ type: "result", id: command.id, ok: false, error: { code, message } });
        },
      );
    }
  } catch {
    // The input failed: the parent is gone all the same.
  } finally {
    stop.abort();
    unsubscribe();
    send({ type: "status", status: link.status() });
    await writing;
    await writer.close().catch(() => {});
  }
}
