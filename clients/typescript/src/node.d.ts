// The few Node.js APIs the client uses. Debian packages TypeScript but not @types/node, and this
// machine reaches no npm registry: these declarations follow Node 20's documented signatures.
declare module "node:child_process" {
  export interface ExecFileError extends Error {
    code?: number | string;
    stdout?: string;
    stderr?: string;
    killed?: boolean;
  }
  export function execFile(
    file: string,
    args: readonly string[],
    options: { timeout?: number; env?: Record<string, string | undefined>; maxBuffer?: number; encoding?: "utf8" },
    callback: (error: ExecFileError | null, stdout: string, stderr: string) => void,
  ): unknown;
}

declare module "node:fs/promises" {
  export function mkdir(path: string, options?: { recursive?: boolean; mode?: number }): Promise<string | undefined>;
  export function writeFile(path: string, data: string, options?: { encoding?: "utf8"; mode?: number; flag?: string }): Promise<void>;
  export function readFile(path: string, encoding: "utf8"): Promise<string>;
  export function rename(from: string, to: string): Promise<void>;
  export function copyFile(from: string, to: string): Promise<void>;
  export function rm(path: string, options?: { force?: boolean; recursive?: boolean }): Promise<void>;
  export function readdir(path: string): Promise<string[]>;
  export function access(path: string): Promise<void>;
}

declare module "node:path" {
  export function join(...parts: string[]): string;
  export function basename(path: string, suffix?: string): string;
  export function dirname(path: string): string;
  export function extname(path: string): string;
  export function resolve(...parts: string[]): string;
  const path: { join: typeof join; basename: typeof basename; dirname: typeof dirname; extname: typeof extname; resolve: typeof resolve };
  export default path;
}

declare const process: {
  argv: string[];
  env: Record<string, string | undefined>;
  exitCode: number | undefined;
};

declare function setTimeout(callback: () => void, milliseconds: number): unknown;

declare const console: {
  log(...values: unknown[]): void;
  error(...values: unknown[]): void;
};
