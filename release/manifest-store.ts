import { loadReleaseManifest, releaseFile, writeReleaseManifest } from "../config/load";
import type { ReleaseManifest } from "../config/release-manifest";

/** The environment's release manifest, config/releases/<env>.json. */
export interface ManifestStore {
  readonly file: string;
  read(): ReleaseManifest;
  /** Validates, then replaces the file atomically (a reader sees the old file or the new one). */
  write(manifest: ReleaseManifest): void;
}

export function manifestStore(environment: string, configDir?: string): ManifestStore {
  return {
    file: releaseFile(environment, configDir),
    read: () => loadReleaseManifest(environment, configDir),
    write: (manifest) => writeReleaseManifest(environment, manifest, configDir),
  };
}

/** The change between two manifests as "-"/"+" lines per field (empty when nothing changed). */
export function manifestDiff(before: ReleaseManifest, after: ReleaseManifest): string[] {
  const a = flatten(before);
  const b = flatten(after);
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((key) => {
    if (a[key] === b[key]) return [];
    return [...(key in a ? [`- ${key}: ${a[key]}`] : []), ...(key in b ? [`+ ${key}: ${b[key]}`] : [])];
  });
}

function flatten(value: unknown, prefix = "", out: Record<string, string> = {}): Record<string, string> {
  if (typeof value === "object" && value !== null) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (value !== undefined) {
    out[prefix] = JSON.stringify(value);
  }
  return out;
}
