import { WallcrawlerError } from '../errors.js';

/**
 * A file to upload: a `File` (its name is used), a `Blob` or bytes (named by `fileName`), or a Node readable
 * stream such as `fs.createReadStream(path)` (named after its path), as `@browserbasehq/sdk` accepts.
 */
export type Uploadable = Blob | Uint8Array | ArrayBuffer | AsyncIterable<Uint8Array | string>;

function nameOf(file: Uploadable, fileName: string | undefined): string {
  if (fileName) return fileName;
  if (typeof File !== 'undefined' && file instanceof File && file.name) return file.name;
  const path = (file as { path?: unknown }).path;
  if (typeof path === 'string') return path.split(/[\\/]/).pop() || 'upload';
  return 'upload';
}

/** The multipart form Browserbase's upload routes take: one part, `file`. */
export async function uploadForm(file: Uploadable, fileName?: string): Promise<FormData> {
  let blob: Blob;
  if (file instanceof Blob) blob = file;
  else if (file instanceof Uint8Array) blob = new Blob([new Uint8Array(file)]);
  else if (file instanceof ArrayBuffer) blob = new Blob([file]);
  else if (file && typeof (file as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
    const chunks: Uint8Array<ArrayBuffer>[] = [];
    for await (const chunk of file) {
      chunks.push(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : new Uint8Array(chunk));
    }
    blob = new Blob(chunks);
  } else {
    throw new WallcrawlerError('Expected a File, a Blob, bytes or a readable stream to upload.');
  }
  const form = new FormData();
  form.append('file', blob, nameOf(file, fileName));
  return form;
}
