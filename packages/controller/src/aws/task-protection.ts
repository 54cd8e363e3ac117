/**
 * ECS task scale-in protection, through the ECS agent's endpoint in the task (`ECS_AGENT_URI`). A warm-pool task
 * protects itself once claimed, so that shrinking the pool's service never stops a task that serves a session;
 * idle tasks stay unprotected, so they are the ones a scale-in stops.
 */
export async function protectTask(
  agentUri: string | undefined,
  { expiresInMinutes }: { expiresInMinutes: number },
): Promise<boolean> {
  if (!agentUri) return false;
  const response = await fetch(`${agentUri.replace(/\/$/, '')}/task-protection/v1/state`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ProtectionEnabled: true, ExpiresInMinutes: Math.max(1, Math.min(2880, expiresInMinutes)) }),
    signal: AbortSignal.timeout(3_000),
  });
  if (!response.ok) throw new Error(`The ECS agent refused task protection (${response.status})`);
  return true;
}
