import { Box, Flex, Heading, HStack, Link, Table, Text } from "@chakra-ui/react";
import { useState } from "react";

import type { JobsAnswer } from "./api";
import { getJson, TERMINAL } from "./api";
import { Choice, DeviceName, Loading, Problem, Section, StatusBadge } from "./common";
import { duration, money, seconds, when } from "./format";
import { usePolling } from "./usePolling";

const PERIODS = [1, 7, 30, 90];
const any = (label: string) => ({ label, value: "" });

/** The "Braket Jobs" page: the jobs this Airflow launched, filtered, refreshed while some run. */
export const JobsView = () => {
  const selected = new URLSearchParams(window.location.search).get("job") ?? undefined;
  const [filters, setFilters] = useState({ dag_id: "", device: "", status: "" });
  const [days, setDays] = useState(7);
  const query = { ...filters, days };
  const polled = usePolling(
    JSON.stringify(query),
    () => getJson<JobsAnswer>("/jobs", query),
    (answer) => answer?.jobs.some((job) => !TERMINAL.has(job.status)) ?? false,
    10000,
  );
  const set = (name: keyof typeof filters) => (value: string) => setFilters({ ...filters, [name]: value });
  const choices = polled.data?.choices ?? { dagIds: [], devices: [], statuses: [] };

  return (
    <Box data-testid="braket-jobs" maxWidth="100%" p={4}>
      <Heading as="h2" mb={4} size="lg">
        Braket Jobs
      </Heading>
      <Flex gap={4} mb={4} wrap="wrap">
        <Choice label="DAG" name="dag_id" onChange={set("dag_id")} options={[any("all DAGs"), ...choices.dagIds.map((id) => ({ label: id, value: id }))]} value={filters.dag_id} />
        <Choice label="Status" name="status" onChange={set("status")} options={[any("any status"), ...choices.statuses.map((status) => ({ label: status, value: status }))]} value={filters.status} />
        <Choice label="Device" name="device" onChange={set("device")} options={[any("any device"), ...choices.devices.map((arn) => ({ label: arn.split("/").pop() ?? arn, value: arn }))]} value={filters.device} />
        <Choice label="Created in the last" name="days" onChange={(value) => setDays(Number(value))} options={PERIODS.map((period) => ({ label: period === 1 ? "day" : `${period} days`, value: String(period) }))} value={String(days)} />
      </Flex>
      {polled.error && <Problem error={polled.error} />}
      {!polled.data ? (
        polled.error ? null : <Loading />
      ) : (
        <>
          <Section title="Jobs">
            {polled.data.jobs.length === 0 ? (
              <Text color="fg.muted">No hybrid job of a DAG you may read matches.</Text>
            ) : (
              <Table.Root data-testid="jobs-table" size="sm" tableLayout="fixed" width="100%">
                <Table.Header>
                  <Table.Row>
                    <Table.ColumnHeader width="24%">Job</Table.ColumnHeader>
                    <Table.ColumnHeader width="11%">Status</Table.ColumnHeader>
                    <Table.ColumnHeader width="12%">Device</Table.ColumnHeader>
                    <Table.ColumnHeader width="23%">DAG run · task</Table.ColumnHeader>
                    <Table.ColumnHeader width="12%">Created</Table.ColumnHeader>
                    <Table.ColumnHeader width="8%">Took</Table.ColumnHeader>
                    <Table.ColumnHeader textAlign="end" width="10%">Cost</Table.ColumnHeader>
                  </Table.Row>
                </Table.Header>
                <Table.Body>
                  {polled.data.jobs.map((job) => (
                    <Table.Row bg={job.jobArn === selected ? "bg.emphasized" : undefined} data-job-arn={job.jobArn} key={job.jobArn}>
                      <Table.Cell truncate title={job.jobArn}>
                        <Link colorPalette="blue" href={`${job.taskInstanceUrl}/plugin/braket-job`}>
                          {job.jobName}
                        </Link>
                      </Table.Cell>
                      <Table.Cell>
                        <StatusBadge status={job.status} />
                        {job.queuePosition !== null && <Text fontSize="xs">{`queue ${job.queuePosition}`}</Text>}
                      </Table.Cell>
                      <Table.Cell truncate>
                        <DeviceName arn={job.device} name={job.deviceName} />
                      </Table.Cell>
                      <Table.Cell truncate title={`${job.dagId} · ${job.runId} · ${job.taskId}`}>
                        <Link colorPalette="blue" href={job.dagRunUrl}>
                          {job.dagId}
                        </Link>
                        {" · "}
                        <Link colorPalette="blue" href={job.taskInstanceUrl}>
                          {job.mapIndex >= 0 ? `${job.taskId}[${job.mapIndex}]` : job.taskId}
                        </Link>
                        {job.tagProblems.length > 0 && (
                          <Text color="fg.error" fontSize="xs">
                            {job.tagProblems.join("; ")}
                          </Text>
                        )}
                      </Table.Cell>
                      <Table.Cell title={when(job.createdAt)} truncate>
                        {when(job.createdAt, false)}
                      </Table.Cell>
                      <Table.Cell>{duration(job.billableSeconds ?? seconds(job.startedAt, job.endedAt))}</Table.Cell>
                      <Table.Cell textAlign="end" title={money(job.cost, 6)}>
                        {money(job.cost)}
                      </Table.Cell>
                    </Table.Row>
                  ))}
                </Table.Body>
              </Table.Root>
            )}
          </Section>
          {polled.data.runs.length > 0 && (
            <Section title="DAG runs of these jobs">
              <Table.Root data-testid="runs-table" size="sm" width="100%">
                <Table.Header>
                  <Table.Row>
                    <Table.ColumnHeader>DAG run</Table.ColumnHeader>
                    <Table.ColumnHeader>Jobs</Table.ColumnHeader>
                    <Table.ColumnHeader textAlign="end">Cost</Table.ColumnHeader>
                    <Table.ColumnHeader>Sweep</Table.ColumnHeader>
                  </Table.Row>
                </Table.Header>
                <Table.Body>
                  {polled.data.runs.map((run) => {
                    const url = polled.data?.jobs.find((job) => job.dagId === run.dag_id && job.runId === run.run_id)?.dagRunUrl;
                    return (
                      <Table.Row data-run-id={run.run_id} key={`${run.dag_id}/${run.run_id}`}>
                        <Table.Cell truncate>
                          {url ? (
                            <Link colorPalette="blue" href={url}>{`${run.dag_id} · ${run.run_id}`}</Link>
                          ) : (
                            `${run.dag_id} · ${run.run_id}`
                          )}
                        </Table.Cell>
                        <Table.Cell>{run.jobs}</Table.Cell>
                        <Table.Cell textAlign="end">{`${run.cost.toFixed(4)} USD${run.unpriced ? " + unpriced" : ""}`}</Table.Cell>
                        <Table.Cell>
                          {run.mapped && url ? (
                            <HStack>
                              <Link colorPalette="blue" href={`${url}/plugin/braket-sweep`}>
                                compare the points
                              </Link>
                            </HStack>
                          ) : (
                            "–"
                          )}
                        </Table.Cell>
                      </Table.Row>
                    );
                  })}
                </Table.Body>
              </Table.Root>
            </Section>
          )}
        </>
      )}
    </Box>
  );
};
