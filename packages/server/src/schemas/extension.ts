import { z } from '@hono/zod-openapi';

export const ExtensionSchema = z
  .object({
    id: z.string(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    fileName: z.string(),
    projectId: z.string(),
  })
  .openapi('Extension');

/** A multipart form with one file part, `file`. */
export const FileUploadSchema = z
  .object({
    file: z
      .custom<File>((value) => value instanceof File, { message: 'expected a file part named `file`' })
      .openapi({ type: 'string', format: 'binary' }),
  })
  .openapi('FileUpload');

export type ExtensionBody = z.infer<typeof ExtensionSchema>;
