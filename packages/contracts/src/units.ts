/** Bytes as MiB for messages: `256 MiB`, `1.5 MiB`. */
export function formatMiB(bytes: number): string {
  return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MiB`;
}
