/** What the controller learns about its own ECS task. */
export interface TaskMetadata {
  taskArn: string;
  /** The cluster's ARN (or name). */
  cluster: string;
  /** The ECS service that started the task, if one did. */
  serviceName?: string;
  /** The task ENI's private IPv4 address (`awsvpc` networking): what the proxy binds to and is reached at. */
  privateIp: string;
}

/**
 * Reads the task metadata endpoint (version 4) that ECS gives every task in `ECS_CONTAINER_METADATA_URI_V4`.
 * @throws Error saying what was missing, after `attempts` tries (the endpoint can lag the container's start).
 */
export async function readTaskMetadata(
  metadataUri: string,
  { attempts = 10, delayMs = 200 }: { attempts?: number; delayMs?: number } = {},
): Promise<TaskMetadata> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const response = await fetch(`${metadataUri.replace(/\/$/, '')}/task`, { signal: AbortSignal.timeout(2_000) });
      if (!response.ok) throw new Error(`the task metadata endpoint answered ${response.status}`);
      return parseTaskMetadata(await response.json());
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
  throw new Error(`Could not read the ECS task metadata at ${metadataUri}: ${(last as Error).message}`);
}

/** Picks the task ARN and the first container's private IPv4 address out of a `/task` answer. */
export function parseTaskMetadata(body: unknown): TaskMetadata {
  const task = body as {
    TaskARN?: unknown;
    Cluster?: unknown;
    ServiceName?: unknown;
    Containers?: { Networks?: { IPv4Addresses?: unknown[] }[] }[];
  };
  if (typeof task?.TaskARN !== 'string' || !task.TaskARN) throw new Error('the task metadata has no TaskARN');
  for (const container of task.Containers ?? []) {
    for (const network of container.Networks ?? []) {
      const ip = network.IPv4Addresses?.find((a): a is string => typeof a === 'string' && a.length > 0);
      if (ip) {
        const cluster = typeof task.Cluster === 'string' && task.Cluster ? task.Cluster : clusterOf(task.TaskARN);
        const serviceName = typeof task.ServiceName === 'string' && task.ServiceName ? task.ServiceName : undefined;
        return { taskArn: task.TaskARN, cluster, privateIp: ip, ...(serviceName ? { serviceName } : {}) };
      }
    }
  }
  throw new Error('the task metadata lists no IPv4 address (is the task using awsvpc networking?)');
}

/** `arn:aws:ecs:<region>:<account>:task/<cluster>/<id>` → `<cluster>`. */
function clusterOf(taskArn: string): string {
  return /:task\/([^/]+)\/[^/]+$/.exec(taskArn)?.[1] ?? 'default';
}
