/**
 * The calls of Stagehand 3's hosted API (`POST /v1/sessions/{id}/<method>`). The server's routes and error
 * paths, and the controller's Stagehand endpoint (in a task), are all derived from this one list.
 */
export type StagehandMethod = 'act' | 'extract' | 'observe' | 'navigate' | 'agentExecute';

export const STAGEHAND_METHODS: readonly StagehandMethod[] = ['act', 'extract', 'observe', 'navigate', 'agentExecute'];
