import { z } from '@hono/zod-openapi';

/** `x-wc-project-id`: chooses one of the key's projects. */
export const ProjectIdHeaderSchema = z.object({
  'x-wc-project-id': z
    .string()
    .optional()
    .openapi({
      param: {
        name: 'x-wc-project-id',
        in: 'header',
        description: "Chooses one of the projects the key covers. Defaults to the key's first project.",
      },
    }),
});

export const IdParamSchema = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' } }),
});
