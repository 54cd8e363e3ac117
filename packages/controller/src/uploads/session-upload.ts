import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** An uploaded file's name, reduced to a safe base name (no directories, no leading dots, no control characters). */
export function safeFileName(name: string): string {
  const base = basename(name.replaceAll('\\', '/'))
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f]/g, '')
    .replace(/^\.+/, '')
    .trim()
    .slice(0, 200);
  return base || 'upload';
}

/**
 * Puts an uploaded file in the session's uploads directory (deleted with the session), for its page's file
 * inputs: the same on the local server and in a task.
 * @returns the file's path, for CDP `DOM.setFileInputFiles`
 */
export async function writeSessionUpload(uploadsDir: string, fileName: string, bytes: Uint8Array): Promise<string> {
  const path = join(uploadsDir, safeFileName(fileName));
  await mkdir(uploadsDir, { recursive: true });
  await writeFile(path, bytes);
  return path;
}
