/** The downloads zip's `content-disposition`: an attachment named after the session. */
export const zipDisposition = (sessionId: string): string => `attachment; filename="${sessionId}-downloads.zip"`;
