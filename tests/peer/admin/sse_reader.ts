/**
 * Reading a server-sent events response in tests: the next event of a kind,
 * within a deadline, and the stream's end.
 *
 * @module
 */

/** A reader of one event stream; disposing it cancels the stream (the client goes away). */
export interface EventReader extends AsyncDisposable {
  /** The data of the next event named `name` (others are skipped), within `timeoutMs`. */
  next(name: string, timeoutMs?: number): Promise<string>;
  /** Reads to the end: true when the server ended the stream within `timeoutMs`. */
  end(timeoutMs?: number): Promise<boolean>;
}

/** Reads `response`'s body as server-sent events. */
export function readEvents(response: Response): EventReader {
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let done = false;

  async function read(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), timeoutMs);
    });
    try {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk === "timeout") throw new Error(`no event within ${timeoutMs} ms`);
      if (chunk.done) done = true;
      else buffer += chunk.value;
      return !chunk.done;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async next(name, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (true) {
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split("\n");
          const event = lines.find((line) => line.startsWith("event: "))?.slice(7);
          if (event !== name) continue;
          return lines.filter((line) => line.startsWith("data: ")).map((line) => line.slice(6))
            .join("\n");
        }
        if (done) throw new Error(`the stream ended before a "${name}" event`);
        await read(Math.max(1, deadline - Date.now()));
      }
    },
    async end(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      try {
        while (!done) await read(Math.max(1, deadline - Date.now()));
        return true;
      } catch {
        return false;
      }
    },
    async [Symbol.asyncDispose]() {
      if (!done) await reader.cancel().catch(() => {});
    },
  };
}
