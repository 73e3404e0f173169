import { Box, Flex, Link, Table, Text } from "@chakra-ui/react";
import { useEffect } from "react";

import type { StudyAnswer } from "./api";
import { getJson } from "./api";
import { StudyChart } from "./charts";
import { Problem, Section } from "./common";
import { number } from "./format";
import { usePolling } from "./usePolling";

const STATE_PALETTE: Record<string, string> = { COMPLETE: "green.600", FAIL: "red.600", PRUNED: "orange.600", RUNNING: "blue.600" };

/** The study a DAG run's points are trials of, over every run of the DAG (docs/sweeps.md). */
export const StudyPanel = ({
  connId,
  dagId,
  name,
  onDirection,
  runId,
}: {
  readonly connId: string;
  readonly dagId: string;
  readonly name: string;
  readonly onDirection: (direction: string) => void;
  readonly runId: string;
}) => {
  const study = usePolling(
    `${dagId}/${name}/${connId}`,
    () => getJson<StudyAnswer>("/study", { dag_id: dagId, name, study_conn_id: connId }),
    (answer) => answer?.trials.some((trial) => trial.state === "RUNNING") ?? true,
    10000,
  );
  const direction = study.data?.direction;
  useEffect(() => {
    if (direction) {
      onDirection(direction);
    }
  }, [direction, onDirection]);
  if (study.error && !study.data) {
    return <Problem error={study.error} />;
  }
  if (!study.data) {
    return null;
  }
  const { best, importances, states, totalCost, trials } = study.data;
  const names = [...new Set(trials.flatMap((trial) => Object.keys(trial.params)))].sort();
  const ranked = Object.entries(importances ?? {}).sort((a, b) => b[1] - a[1]);
  return (
    <Box data-testid="study">
      <Section title={`Study ${name} over every run (${study.data.direction}, ${study.data.sampler})`}>
        <Flex gap={6} mb={3} wrap="wrap">
          <Text data-testid="study-best">{best ? `best: ${number(best.value ?? undefined)} (trial ${best.number}, run ${best.runId ?? "–"})` : "no finished trial yet"}</Text>
          <Text color="fg.muted" data-testid="study-states">
            {Object.entries(states).map(([state, count]) => `${count} ${state.toLowerCase()}`).join(", ")}
          </Text>
          <Text color="fg.muted">{`cost ${totalCost.toFixed(4)} USD`}</Text>
        </Flex>
        <StudyChart study={study.data} />
      </Section>
      {ranked.length > 0 && (
        <Section title="Parameter importances (Optuna)">
          <Box data-testid="importances">
            {ranked.map(([parameter, share]) => (
              <Flex align="center" gap={2} key={parameter} mb={1}>
                <Text minWidth="8rem">{parameter}</Text>
                <Box bg="orange.400" height="0.75rem" width={`${Math.max(2, share * 300)}px`} />
                <Text color="fg.muted">{share.toFixed(3)}</Text>
              </Flex>
            ))}
          </Box>
        </Section>
      )}
      <Section title="Trials">
        <Box maxHeight="24rem" overflow="auto">
          <Table.Root data-testid="trials-table" size="sm" stickyHeader>
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeader>Trial</Table.ColumnHeader>
                <Table.ColumnHeader>State</Table.ColumnHeader>
                {names.map((parameter) => (
                  <Table.ColumnHeader key={parameter}>{parameter}</Table.ColumnHeader>
                ))}
                <Table.ColumnHeader textAlign="end">Objective</Table.ColumnHeader>
                <Table.ColumnHeader textAlign="end">Cost</Table.ColumnHeader>
                <Table.ColumnHeader>Run</Table.ColumnHeader>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {[...trials].reverse().map((trial) => (
                <Table.Row bg={trial.number === best?.number ? "bg.emphasized" : undefined} data-state={trial.state} data-trial={trial.number} key={trial.number}>
                  <Table.Cell>{trial.number}</Table.Cell>
                  <Table.Cell color={STATE_PALETTE[trial.state]}>{trial.state.toLowerCase()}</Table.Cell>
                  {names.map((parameter) => (
                    <Table.Cell key={parameter}>{trial.params[parameter] === undefined ? "–" : String(trial.params[parameter])}</Table.Cell>
                  ))}
                  <Table.Cell textAlign="end">{trial.value === null ? "–" : number(trial.value)}</Table.Cell>
                  <Table.Cell textAlign="end">{trial.cost === null ? "–" : trial.cost.toFixed(4)}</Table.Cell>
                  <Table.Cell>
                    {trial.runId ? (
                      trial.runId === runId ? (
                        <Text as="span">this run</Text>
                      ) : (
                        <Link colorPalette="blue" href={`../${encodeURIComponent(trial.runId)}/plugin/braket-sweep`}>
                          {trial.runId}
                        </Link>
                      )
                    ) : (
                      "–"
                    )}
                  </Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
        </Box>
      </Section>
    </Box>
  );
};
