/**
 * `deno task gen`: checks the contracts in `protos/` with `buf lint`, then
 * regenerates the protobuf-es code in `gen/` with `buf generate`
 * (`buf.yaml`, `buf.gen.yaml`).
 *
 * ```sh
 * deno task gen           # lint, then regenerate gen/
 * deno task gen --check   # lint, then fail naming each file of gen/ that is stale
 * deno task gen --lint    # lint only
 * ```
 *
 * Both tools are the npm packages pinned in `deno.json` ("@bufbuild/buf" and
 * "@bufbuild/protoc-gen-es"), run by the same `deno` that runs this script:
 * buf through `deno run @bufbuild/buf`, and buf runs the plugin as
 * `deno run @bufbuild/protoc-gen-es` (buf.gen.yaml) with this `deno` first
 * on `PATH`. Nothing needs installing beyond Deno.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where `deno.json`, `buf.yaml` and `buf.gen.yaml` are). */
export const ROOT: string = fileURLToPath(new URL("../", import.meta.url));

/** The folder `buf generate` writes into, below its output directory. */
export const GEN_DIR = "gen";

/** What one `buf` run printed, and whether it succeeded. */
export interface BufResult {
  /** Whether buf exited with 0. */
  success: boolean;
  /** buf's exit code. */
  code: number;
  /** Standard output (buf lint's findings). */
  stdout: string;
  /** Standard error (buf's and Deno's messages). */
  stderr: string;
}

/** Runs `buf` with `args` from the repository root and collects what it printed. */
export async function runBuf(args: readonly string[]): Promise<BufResult> {
  const deno = Deno.execPath();
  const path = Deno.env.get("PATH");
  const command = new Deno.Command(deno, {
    // buf is a native binary behind a small Node launcher; the launcher needs
    // to find and spawn it, so it runs with every permission.
    args: ["run", "--quiet", "--no-prompt", "--allow-all", "@bufbuild/buf", ...args],
    cwd: ROOT,
    env: {
      // buf.gen.yaml runs the plugin as `deno run ...`: use this deno.
      PATH: path
        ? `${dirname(deno)}${Deno.build.os === "windows" ? ";" : ":"}${path}`
        : dirname(deno),
      NO_COLOR: "1",
    },
    stdout: "piped",
    stderr: "piped",
  });
  const output = await command.output();
  const decoder = new TextDecoder();
  return {
    success: output.success,
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs `buf lint` on `protos/`; the result's stdout lists each finding. */
export function lint(): Promise<BufResult> {
  return runBuf(["lint"]);
}

/**
 * Runs `buf generate`. Without `outDir` the code goes to `gen/` in the
 * repository; with it, to `<outDir>/gen` (for comparing with the checked-in
 * code).
 */
export function generate(outDir?: string): Promise<BufResult> {
  return runBuf(outDir === undefined ? ["generate"] : ["generate", "--output", outDir]);
}

async function listFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  async function walk(current: string): Promise<void> {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(current));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(current, entry.name);
      if (entry.isDirectory) await walk(path);
      else files.push(relative(dir, path));
    }
  }
  await walk(dir);
  return files.sort();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The files of `actualDir` that differ from `expectedDir`, byte for byte:
 * each relative path with why (`changed`, `missing`, or `extra`: present in
 * `actualDir` but not generated any more). Empty when both trees are equal.
 */
export async function staleFiles(expectedDir: string, actualDir: string): Promise<string[]> {
  const expected = await listFiles(expectedDir);
  const actual = await listFiles(actualDir);
  const actualSet = new Set(actual);
  const expectedSet = new Set(expected);
  const stale: string[] = [];
  for (const file of expected) {
    if (!actualSet.has(file)) {
      stale.push(`${file} (missing)`);
      continue;
    }
    const [want, have] = await Promise.all([
      Deno.readFile(join(expectedDir, file)),
      Deno.readFile(join(actualDir, file)),
    ]);
    if (!sameBytes(want, have)) stale.push(`${file} (changed)`);
  }
  for (const file of actual) if (!expectedSet.has(file)) stale.push(`${file} (extra)`);
  return stale;
}

/**
 * Regenerates into a temporary directory and compares with the checked-in
 * `gen/`: the stale files (see {@link staleFiles}) as paths from the
 * repository root, such as `gen/sorcha/peer/v1/heartbeat_pb.ts (changed)`;
 * empty when `gen/` is current. Throws when buf fails.
 */
export async function checkGenerated(): Promise<string[]> {
  const temp = await Deno.makeTempDir({ prefix: "sorcha-gen-" });
  try {
    const result = await generate(temp);
    if (!result.success) {
      throw new Error(
        `buf generate failed (exit ${result.code}):\n${result.stdout}${result.stderr}`,
      );
    }
    const stale = await staleFiles(join(temp, GEN_DIR), join(ROOT, GEN_DIR));
    return stale.map((file) => `${GEN_DIR}/${file}`);
  } finally {
    await Deno.remove(temp, { recursive: true });
  }
}

function report(step: string, result: BufResult): boolean {
  if (result.success) return true;
  console.error(`${step} failed (exit ${result.code}):`);
  if (result.stdout.trim()) console.error(result.stdout.trimEnd());
  if (result.stderr.trim()) console.error(result.stderr.trimEnd());
  return false;
}

async function main(args: readonly string[]): Promise<number> {
  const mode = args[0] ?? "";
  if (!["", "--check", "--lint"].includes(mode) || args.length > 1) {
    console.error("usage: deno task gen [--check | --lint]");
    return 2;
  }
  if (!report("buf lint", await lint())) return 1;
  console.log("buf lint: clean");
  if (mode === "--lint") return 0;
  if (mode === "--check") {
    const stale = await checkGenerated();
    if (stale.length > 0) {
      console.error(
        `gen/ is stale (run \`deno task gen\`): ${stale.length} file(s) differ:\n  ${
          stale.join("\n  ")
        }`,
      );
      return 1;
    }
    console.log("gen/: current");
    return 0;
  }
  if (!report("buf generate", await generate())) return 1;
  const files = await listFiles(join(ROOT, GEN_DIR));
  console.log(`buf generate: ${files.length} file(s) in gen/`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
