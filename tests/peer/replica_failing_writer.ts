/**
 * A writer worker for the SQLite replica store's tests: the real one
 * (`peer/replica/sqlite_writer_worker.ts`), except that it dies, with an
 * uncaught error, on the first part of the store's first replacement.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import "../../peer/replica/sqlite_writer_worker.ts";
import type { WriterRequest } from "../../peer/replica/sqlite_writer.ts";

// The real worker's handler (an arrow function: it needs no `this`).
const real = self.onmessage as (event: MessageEvent<WriterRequest>) => void;
self.onmessage = (event: MessageEvent<WriterRequest>) => {
  const request = event.data;
  if (request.kind === "add" && request.replacement === 1) {
    throw new Error("the writer died (as the test asked)");
  }
  real(event);
};
