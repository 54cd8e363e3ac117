/** A browser window's size in CSS pixels. */
export interface Viewport {
  width: number;
  height: number;
}

/** The viewport of a session that asks for none (Browserbase's default). */
export const DEFAULT_VIEWPORT = { width: 1024, height: 768 } as const satisfies Viewport;
