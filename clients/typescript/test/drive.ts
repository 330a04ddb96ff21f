// Runs the gather stage of src/media-library.ts the way a pipeline would, with a provider that
// "downloads" from a folder of files, for the test suite (Tests/MediaqTests/TypeScriptClientTests).
//   node drive.js SCENARIO FIXTURES SCRIPT STOCK_CONFIG WORK DROP RUN_ID
// SCENARIO: "stage" (a normal run), "empty" (the provider finds nothing), "outage" (the
// provider's first search waits for WORK/outage-go, so the test can stop the database after the
// plan), "release" (only releases pins left by a failed stage).
// Prints one JSON document; exits 0, 75 for LibraryUnavailable, 1 otherwise.
import { copyFile, readdir, writeFile, access } from "node:fs/promises";
import path from "node:path";
import { gatherStage, LibraryUnavailable, MediaLibrary, Missing, Provider, releasePendingPins } from "../src/media-library";

const [scenario, fixtures, script, stockConfig, work, drop, runId] = process.argv.slice(2);

const sleep = (milliseconds: number) => new Promise<void>((resolve) => setTimeout(resolve, milliseconds));

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

class FolderProvider implements Provider {
  readonly name = "pexels";
  searches = 0;
  downloads = 0;

  async search(need: Missing): Promise<{ id: string; url: string }[]> {
    this.searches += 1;
    if (scenario === "empty") return [];
    if (scenario === "outage" && this.searches === 1) {
      await writeFile(path.join(work, "outage-ready"), "", { encoding: "utf8" });
      while (!(await exists(path.join(work, "outage-go")))) await sleep(50);
    }
    const extension = need.kind === "video" ? ".mp4" : ".png";
    // The fixtures are named by the tag they show: harbour-1.png, harbour-v1.mp4.
    const files = (await readdir(fixtures)).filter((name) => name.startsWith(`${need.tags[0]}-`) && name.endsWith(extension)).sort();
    return files.map((name) => ({ id: path.basename(name, extension), url: `https://pexels.example/${name}` }));
  }

  async download(result: { id: string; url: string }, folder: string): Promise<string> {
    this.downloads += 1;
    const name = path.basename(result.url);
    const file = path.join(folder, name);
    await copyFile(path.join(fixtures, name), file);
    return file;
  }
}

async function main(): Promise<number> {
  const library = new MediaLibrary({ mediaq: process.env.MEDIAQ_PROGRAM });
  const provider = new FolderProvider();
  const workDir = path.join(work, runId);
  try {
    if (scenario === "release") {
      const released = await releasePendingPins(library, work);
      console.log(JSON.stringify({ ok: true, released }));
      return 0;
    }
    const manifest = await gatherStage({ library, provider, runId, script, stockConfig, workDir, stateDir: work, dropDir: drop });
    console.log(JSON.stringify({ ok: true, manifest, searches: provider.searches, downloads: provider.downloads }));
    return 0;
  } catch (error) {
    const unavailable = error instanceof LibraryUnavailable;
    console.log(JSON.stringify({ ok: false, error: (error as Error).name, message: (error as Error).message, downloads: provider.downloads }));
    return unavailable ? 75 : 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
