import { Box, Text } from "@chakra-ui/react";

import type { TaskInstanceAnswer } from "./api";
import { getJson, TERMINAL } from "./api";
import { Loading, Problem } from "./common";
import { JobDetail } from "./JobDetail";
import { usePolling } from "./usePolling";

export type TaskInstanceProps = { dagId: string; runId: string; taskId: string; mapIndex?: string };

/** The "Braket Job" tab of a task instance: its hybrid job, live while it runs. */
export const TaskInstanceView = ({ dagId, mapIndex, runId, taskId }: TaskInstanceProps) => {
  const query = { dag_id: dagId, map_index: mapIndex ?? "-1", run_id: runId, task_id: taskId };
  const polled = usePolling(
    JSON.stringify(query),
    () => getJson<TaskInstanceAnswer>("/task-instance", query),
    (view) => view?.job === undefined || view.job === null || !TERMINAL.has(view.job.status),
  );
  if (polled.error && !polled.data) {
    return <Problem error={polled.error} />;
  }
  if (!polled.data) {
    return <Loading />;
  }
  return (
    <Box data-testid="braket-task-instance" p={2}>
      {polled.error && <Problem error={polled.error} />}
      {polled.data.job === null ? (
        <Text color="fg.muted" data-testid="no-job">
          This task instance has no hybrid job (yet): the Braket operators tag each job they create with its task,
          and none with this one was created in the last 30 days.
        </Text>
      ) : (
        <JobDetail onChange={polled.reload} view={polled.data} />
      )}
    </Box>
  );
};
