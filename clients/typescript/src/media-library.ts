// The gather stage's client of the local stock-media library: `mediaq` as a child process with
// `--json` (one document per command), and the drop folder for downloads. docs/integration.md
// quotes this file; the test suite compiles it with Debian's tsc and runs it with Node against
// the real mediad and mediaq, under two Unix users.
import { execFile, ExecFileError } from "node:child_process";
import { copyFile, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";

// #region errors
/** mediaq exited 75: the library is unavailable now. End the stage with a retryable error; do not download. */
export class LibraryUnavailable extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = "LibraryUnavailable";
  }
}

/** Any other failure of mediaq (65 bad input, 2 usage, 1 other): retrying will not help. */
export class LibraryError extends Error {
  constructor(message: string, readonly exitCode: number, readonly code?: string) {
    super(message);
    this.name = "LibraryError";
  }
}
// #endregion errors

export type Kind = "video" | "image";

export interface ManifestEntry {
  segmentId: string;
  kind: Kind;
  /** "local-library", or the provider a file was downloaded from. */
  source: string;
  libraryId?: number;
  path: string;
  absolutePath?: string;
  provider?: string;
  sourceUrl?: string;
  score?: number;
}

export interface Missing {
  kind: Kind;
  tags: string[];
  localMatches: number;
  minMatches: number;
  limit: number;
  minDurationSeconds: number | null;
  minWidth: number;
  minHeight: number;
  aspect: string | null;
  /** Local results below the quality floor, the best one's score and the tags it lacks. */
  belowFloor: number;
  bestLocalScore: number | null;
  bestLocalLacks: string[];
  /** Why this is searched online: one sentence for the log. */
  reason: string;
}

export interface Plan {
  ok: boolean;
  complete: boolean;
  manifest: ManifestEntry[];
  segments: { id: string; covered: Kind[]; missing: Missing[] }[];
  markedUsed: boolean;
  runId: string | null;
}

export interface KnownAsset {
  providerId: string;
  libraryId: number;
  kind: Kind;
  path: string;
  absolutePath: string;
  sourceUrl: string | null;
}

export interface Known {
  ok: boolean;
  provider: string;
  known: KnownAsset[];
  /** Not in the library: download these. */
  unknown: string[];
  /** Content an operator blocked (`mediaq block`): never download these. */
  blocked: string[];
}

export interface LibraryOptions {
  /** The mediaq program (default: "mediaq" on PATH). */
  mediaq?: string;
  /** Extra environment for mediaq (LIBRARY_ROOT, MEDIA_CONFIG…); /etc/media-library/config.json otherwise. */
  env?: Record<string, string>;
  /** How long one command may take (mediaq itself answers "unavailable" within 5 s). */
  timeoutMs?: number;
}

// #region client
/** One mediaq per call; the JSON document it prints, or a typed error by its exit code. */
export class MediaLibrary {
  private readonly program: string;
  private readonly env: Record<string, string | undefined>;
  private readonly timeoutMs: number;

  constructor(options: LibraryOptions = {}) {
    this.program = options.mediaq ?? "mediaq";
    this.env = { ...process.env, ...(options.env ?? {}) };
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  run<T>(args: string[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      execFile(
        this.program,
        [...args, "--json"],
        { timeout: this.timeoutMs, env: this.env, maxBuffer: 64 * 1024 * 1024, encoding: "utf8" },
        (error: ExecFileError | null, stdout: string, stderr: string) => {
          if (!error) {
            try {
              resolve(JSON.parse(stdout) as T);
            } catch {
              reject(new LibraryError(`mediaq ${args[0]} printed no JSON document: ${stdout.slice(0, 200)}`, 0));
            }
            return;
          }
          // With --json a failure is {"ok": false, "error": {"code", "message"}} on stdout.
          let reason = (stderr || String(error.message)).trim();
          let code: string | undefined;
          try {
            const failure = JSON.parse(stdout).error;
            reason = failure.message;
            code = failure.code;
          } catch {
            // stderr's one line is the reason
          }
          const exit = typeof error.code === "number" ? error.code : -1;
          if (exit === 75 || error.killed) {
            reject(new LibraryUnavailable(`mediaq ${args[0]}: ${reason}`, code ?? "timeout"));
          } else {
            reject(new LibraryError(`mediaq ${args[0]} failed (exit ${exit}): ${reason}`, exit, code));
          }
        },
      );
    });
  }

  /** Gather's pre-search for the whole script; picks are marked used and pinned for the run. */
  async plan(script: string, options: { runId: string; stockConfig?: string; out?: string }): Promise<Plan> {
    const args = ["plan", script, "--pin", options.runId];
    if (options.stockConfig) args.push("--stock-config", options.stockConfig);
    if (options.out) {
      // mediaq writes --out atomically but does not make its folder.
      await mkdir(path.dirname(options.out), { recursive: true });
      args.push("--out", options.out);
    }
    return this.run<Plan>(args);
  }

  /**
   * Which of a provider's ids the library holds (pinned for `runId` when given, since the run
   * reuses them). No ids is no question (and no process).
   */
  async known(provider: string, ids: string[], runId?: string): Promise<Known> {
    if (ids.length === 0) return { ok: true, provider, known: [], unknown: [], blocked: [] };
    const pin = runId === undefined ? [] : ["--pin", runId];
    return this.run<Known>(["known", "--provider", provider, ...pin, ...ids]);
  }

  async use(libraryIds: number[]): Promise<void> {
    if (libraryIds.length === 0) return;
    await this.run(["use", ...libraryIds.map(String)]);
  }

  async unpin(runId: string): Promise<number> {
    const report = await this.run<{ unpinned: number }>(["unpin", runId]);
    return report.unpinned;
  }
}
// #endregion client

export interface Sidecar {
  tags: string[];
  provider: string;
  providerId: string;
  sourceUrl: string;
  used: boolean;
  pin: string;
}

// #region drop
/**
 * Hands a download to the library: the media copied in under a hidden `.part` name, its sidecar
 * renamed in, then the media renamed in, so mediad never sees a half file or a sidecar without
 * its media. The name carries the run, provider and id, so drops of different runs never
 * collide. Nothing is left behind when a step fails. Returns the name in the drop folder.
 */
export async function dropDownload(dropDir: string, file: string, sidecar: Sidecar): Promise<string> {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "");
  const name = `${safe(sidecar.pin)}--${safe(sidecar.provider)}-${safe(sidecar.providerId)}${path.extname(file).toLowerCase()}`;
  const media = path.join(dropDir, name);
  const partMedia = path.join(dropDir, `.${name}.part`);
  const partSidecar = path.join(dropDir, `.${name}.json.part`);
  let sidecarIn = false;
  try {
    await copyFile(file, partMedia);
    await writeFile(partSidecar, JSON.stringify(sidecar), { encoding: "utf8", mode: 0o640 });
    await rename(partSidecar, media + ".json");
    sidecarIn = true;
    await rename(partMedia, media);
    return name;
  } catch (error) {
    await rm(partMedia, { force: true });
    await rm(partSidecar, { force: true });
    if (sidecarIn) await rm(media + ".json", { force: true });
    throw error;
  }
}
// #endregion drop

/** A stock provider as gather already has it: search with the plan's criteria, download a result. */
export interface Provider {
  name: string;
  search(need: Missing): Promise<{ id: string; url: string }[]>;
  download(result: { id: string; url: string }, folder: string): Promise<string>;
}

export interface StageOptions {
  library: MediaLibrary;
  provider: Provider;
  runId: string;
  script: string;
  stockConfig?: string;
  /** The run's working folder: its downloads and plan. */
  workDir: string;
  /** Kept across runs: the pins to release after an outage (default: workDir's parent). */
  stateDir?: string;
  dropDir: string;
}

const pendingUnpins = (stateDir: string) => path.join(stateDir, "pending-unpins.json");

/**
 * Unpins runs whose stage failed while the library was unavailable. Called at the start of
 * every stage; throws LibraryUnavailable (before any download) if the library still is.
 */
export async function releasePendingPins(library: MediaLibrary, stateDir: string): Promise<string[]> {
  const file = pendingUnpins(stateDir);
  let runs: string[] = [];
  try {
    runs = JSON.parse(await readFile(file, "utf8")) as string[];
  } catch {
    return [];
  }
  for (const run of runs) await library.unpin(run);
  await rm(file, { force: true });
  return runs;
}

async function rememberPin(stateDir: string, runId: string): Promise<void> {
  const file = pendingUnpins(stateDir);
  let runs: string[] = [];
  try {
    runs = JSON.parse(await readFile(file, "utf8")) as string[];
  } catch {
    // none yet
  }
  if (!runs.includes(runId)) runs.push(runId);
  await writeFile(file + ".tmp", JSON.stringify(runs), { encoding: "utf8" });
  await rename(file + ".tmp", file);
}

// #region stage
/**
 * The gather stage, local first: plan, reuse what the library holds, download only what is
 * missing and drop it for the library. Throws LibraryUnavailable before any download when the
 * library is unavailable. When the stage fails after planning, the run's pins are released
 * (later, by the next stage, if the library is unavailable then) and its partial drops removed.
 */
export async function gatherStage(options: StageOptions): Promise<ManifestEntry[]> {
  const { library, provider, runId, workDir, dropDir } = options;
  const stateDir = options.stateDir ?? path.dirname(workDir);
  await releasePendingPins(library, stateDir);
  await mkdir(path.join(workDir, "downloads"), { recursive: true });
  const plan = await library.plan(options.script, {
    runId,
    stockConfig: options.stockConfig,
    out: path.join(workDir, "local-plan.json"),
  });
  const manifest: ManifestEntry[] = [...plan.manifest];
  try {
    for (const segment of plan.segments) {
      for (const need of segment.missing) {
        const results = (await provider.search(need)).slice(0, need.limit);
        const { known, blocked } = await library.known(provider.name, results.map((result) => result.id), runId);
        const reused = known.filter((asset) => asset.kind === need.kind);
        await library.use(reused.map((asset) => asset.libraryId));
        for (const result of results) {
          if (blocked.includes(result.id)) continue; // an operator blocked it: never download it
          const local = reused.find((asset) => asset.providerId === result.id);
          if (local) {
            manifest.push({
              segmentId: segment.id, kind: need.kind, source: "local-library", libraryId: local.libraryId,
              path: local.path, absolutePath: local.absolutePath, provider: provider.name, sourceUrl: result.url,
            });
            continue;
          }
          const file = await provider.download(result, path.join(workDir, "downloads"));
          manifest.push({ segmentId: segment.id, kind: need.kind, source: provider.name, path: file, sourceUrl: result.url });
          await dropDownload(dropDir, file, {
            tags: need.tags, provider: provider.name, providerId: result.id, sourceUrl: result.url, used: true, pin: runId,
          });
        }
      }
    }
    return manifest;
  } catch (error) {
    // The run will not use its picks: release them now, or at the next stage if the library is down.
    try {
      await library.unpin(runId);
    } catch {
      await rememberPin(stateDir, runId);
    }
    throw error;
  }
}
// #endregion stage
