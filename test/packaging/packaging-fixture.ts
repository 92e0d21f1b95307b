/**
 * One entry of the packaged-install test: a throwaway Nest app, built OUTSIDE the workspace from the
 * lib's `npm pack` tarball, compiled with tsc (nodenext) and booted. To cover a new lib, add
 * `fixtures/<lib>.ts` with a default export of this shape.
 */
export interface PackagingFixture {
  /** Workspace folder of the lib under test, e.g. `libs/secrets`. */
  readonly lib: string;
  /** Other workspace libs the app needs as tarballs too (e.g. a peer on `@bastion/secrets`). */
  readonly alsoPack?: readonly string[];
  /** Registry packages to install, pinned to the versions installed in the workspace (npm cache is warm). */
  readonly dependencies: readonly string[];
  /** App files relative to its root; `src/main.ts` is compiled to `dist/main.js` and run. */
  readonly files: Readonly<Record<string, string>>;
  /** Prepares the app dir before the run (e.g. writes secret files) and returns extra env for it. */
  readonly setup?: (appDir: string) => Record<string, string>;
  /** The app's stdout must match this; the app must also exit with code 0. */
  readonly expectOutput: RegExp;
}
