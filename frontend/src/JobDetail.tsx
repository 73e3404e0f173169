// One job in full: status and queue position, its timeline, metrics, cost, links and last log
// lines. The task instance view shows its task's job this way; the jobs list, the selected job.
import { Box, Button, Flex, Grid, HStack, Link, Stack, Text } from "@chakra-ui/react";
import { useEffect, useRef, useState } from "react";

import type { TaskInstanceAnswer } from "./api";
import { cancelJob } from "./api";
import { MetricChart } from "./charts";
import { Choice, DeviceName, Section, StatusBadge } from "./common";
import { duration, money, seconds, when } from "./format";

const Stat = ({ label, testId, value }: { readonly label: string; readonly testId?: string; readonly value: string }) => (
  <Box>
    <Text color="fg.muted" fontSize="xs">
      {label}
    </Text>
    <Text data-testid={testId} fontWeight="semibold">
      {value}
    </Text>
  </Box>
);

const Timeline = ({ created, ended, started }: { readonly created: string | null; readonly ended: string | null; readonly started: string | null }) => (
  <Grid data-testid="timeline" gap={4} templateColumns="repeat(auto-fit, minmax(150px, 1fr))">
    <Stat label="Created" value={when(created)} />
    <Stat label={started ? "Queued for" : "Queued so far"} value={duration(seconds(created, started ?? ended))} />
    <Stat label="Started" value={when(started)} />
    <Stat label={ended ? "Ran for" : "Running for"} value={started ? duration(seconds(started, ended)) : "–"} />
    <Stat label="Ended" value={when(ended)} />
  </Grid>
);

/** The last log lines, scrolled to the newest as they come. */
const LogTail = ({ text }: { readonly text: string }) => {
  const box = useRef<HTMLPreElement>(null);
  useEffect(() => {
    if (box.current) {
      box.current.scrollTop = box.current.scrollHeight;
    }
  }, [text]);
  return (
    <Box as="pre" bg="bg.muted" borderRadius="md" data-testid="log-tail" fontFamily="mono" fontSize="xs" maxHeight="320px" overflow="auto" p={3} ref={box} whiteSpace="pre-wrap" wordBreak="break-all">
      {text}
    </Box>
  );
};

export const JobDetail = ({ onChange, view }: { readonly onChange: () => void; readonly view: TaskInstanceAnswer }) => {
  const [metric, setMetric] = useState<string>();
  const [cancelling, setCancelling] = useState<string>();
  const { job } = view;
  if (!job) {
    return null;
  }
  const names = Object.keys(view.metrics).sort();
  const shown = metric !== undefined && names.includes(metric) ? metric : names[0];
  const ended = Boolean(job.endedAt) || ["COMPLETED", "FAILED", "CANCELLED"].includes(job.status);

  const cancel = () => {
    if (!window.confirm(`Cancel the hybrid job ${job.jobName}? Its Airflow task will fail.`)) {
      return;
    }
    setCancelling("Cancelling…");
    cancelJob(job.jobArn)
      .then((answer) => setCancelling(`Cancel asked: ${answer.cancellationStatus}`))
      .catch((error: unknown) => setCancelling(error instanceof Error ? error.message : String(error)))
      .finally(onChange);
  };

  return (
    <Stack data-testid="job-detail" gap={0}>
      <Section title="Hybrid job">
        <Flex align="center" gap={3} wrap="wrap">
          <Text data-testid="job-name" fontSize="lg" fontWeight="bold">
            {job.jobName}
          </Text>
          <StatusBadge status={job.status} />
          {job.queuePosition !== null && <Text data-testid="queue-position">queue position {job.queuePosition}</Text>}
          <Text color="fg.muted">
            on <DeviceName arn={job.device} name={job.deviceName} />
          </Text>
          {view.attempts.length > 1 && <Text color="fg.muted">{`attempt ${view.attempts.length} of this task (older jobs: ${view.attempts.length - 1})`}</Text>}
          <Box flex="1" />
          {view.mayCancel && (
            <Button colorPalette="red" data-testid="cancel" disabled={cancelling !== undefined} onClick={cancel} size="sm" variant="outline">
              Cancel job
            </Button>
          )}
        </Flex>
        {cancelling && <Text data-testid="cancel-state" mt={2}>{cancelling}</Text>}
        {job.failureReason && (
          <Text color="fg.error" mt={2}>
            {job.failureReason}
          </Text>
        )}
        <Box mt={4}>
          <Timeline created={job.createdAt} ended={job.endedAt} started={job.startedAt} />
        </Box>
        <Grid gap={4} mt={4} templateColumns="repeat(auto-fit, minmax(150px, 1fr))">
          <Stat label={ended ? "Cost (final)" : "Cost so far"} testId="cost" value={money(job.cost)} />
          <Stat label="Billable time" value={duration(job.billableSeconds)} />
          <Box>
            <Text color="fg.muted" fontSize="xs">
              Links
            </Text>
            <HStack gap={3}>
              {job.consoleUrl ? (
                <Link colorPalette="blue" data-testid="console-link" href={job.consoleUrl} rel="noreferrer" target="_blank">
                  Braket console
                </Link>
              ) : (
                <Text color="fg.muted" title="Jobs of the local Braket service have no AWS console page">
                  local service: no console
                </Text>
              )}
              <Link colorPalette="blue" href={job.dagRunUrl}>
                DAG run
              </Link>
            </HStack>
          </Box>
        </Grid>
      </Section>
      <Section title="Metrics">
        {names.length === 0 ? (
          <Text color="fg.muted">{ended ? "The job logged no metrics." : "No metrics logged yet."}</Text>
        ) : (
          <>
            {names.length > 1 && <Choice label="Metric" name="metric" onChange={setMetric} options={names.map((name) => ({ label: name, value: name }))} value={shown ?? ""} />}
            {shown && <MetricChart name={shown} series={view.metrics[shown]!} />}
          </>
        )}
      </Section>
      <Section title="Last log lines">
        {view.logTail.length === 0 ? (
          <Text color="fg.muted">No log lines yet.</Text>
        ) : (
          <LogTail text={view.logTail.map((event) => event.message).join("\n")} />
        )}
      </Section>
    </Stack>
  );
};
