import { DescribeNetworkInterfacesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeTasksCommand, ECSClient } from '@aws-sdk/client-ecs';
import type { TaskMetadata } from './task-metadata.js';

/**
 * The public IPv4 address of this Fargate task, for clients outside the VPC: the task's network interface
 * (from `DescribeTasks`) and that interface's public address (from `DescribeNetworkInterfaces`). The task
 * metadata only knows the private one. Retries while the address is not associated yet.
 *
 * Endpoints come from the SDK's usual settings (`AWS_ENDPOINT_URL_ECS`, `AWS_ENDPOINT_URL_EC2` for emulators).
 * @throws Error saying which step found nothing
 */
export async function findPublicAddress(
  task: TaskMetadata,
  { region, attempts = 10, delayMs = 500 }: { region: string; attempts?: number; delayMs?: number },
): Promise<string> {
  const ecs = new ECSClient({ region });
  const ec2 = new EC2Client({ region });
  let last = 'no attempt was made';
  try {
    for (let i = 0; i < attempts; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, delayMs));
      const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: task.cluster, tasks: [task.taskArn] }));
      const eni = tasks[0]?.attachments
        ?.find((a) => a.type === 'ElasticNetworkInterface')
        ?.details?.find((d) => d.name === 'networkInterfaceId')?.value;
      if (!eni) {
        last = `ECS lists no network interface for task ${task.taskArn}`;
        continue;
      }
      const { NetworkInterfaces = [] } = await ec2.send(
        new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eni] }),
      );
      const ip = NetworkInterfaces[0]?.Association?.PublicIp;
      if (ip) return ip;
      last = `network interface ${eni} has no public IP (is assignPublicIp ENABLED, in a public subnet?)`;
    }
    throw new Error(`Could not find this task's public address: ${last}`);
  } finally {
    ecs.destroy();
    ec2.destroy();
  }
}
