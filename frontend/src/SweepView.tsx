import { Box, Flex, Link, Table, Text } from "@chakra-ui/react";
import { useState } from "react";

import type { RunSummary, SweepAnswer, SweepPoint } from "./api";
import { getJson, TERMINAL } from "./api";
import { RunsChart, SweepChart } from "./charts";
import { Choice, Loading, Problem, Section, StatusBadge } from "./common";
import { StudyPanel } from "./StudyPanel";
import { money, number } from "./format";
import { usePolling } from "./usePolling";

export type SweepProps = { dagId: string; runId: string };

const bestOf = (points: SweepPoint[], score: string, goal: string): SweepPoint | undefined => {
  const scored = points.filter((point) => score in point.scores);
  const sign = goal === "min" ? 1 : -1;
  return scored.sort((a, b) => sign * ((a.scores[score] ?? 0) - (b.scores[score] ?? 0)))[0];
};

/** The "Braket Sweep" tab of a DAG run: its mapped jobs side by side, ranked by a chosen score. */
export const SweepView = ({ dagId, runId }: SweepProps) => {
  const [score, setScore] = useState<string>();
  const [chosenGoal, setGoal] = useState<string>();
  // A study's direction is the default: "largest" for a study that maximises.
  const [studyGoal, setStudyGoal] = useState<string>();
  const goal = chosenGoal ?? studyGoal ?? "min";
  const [parameter, setParameter] = useState<string>();
  const sweep = usePolling(
    `${dagId}/${runId}`,
    () => getJson<SweepAnswer>("/sweep", { dag_id: dagId, run_id: runId }),
    (answer) => answer?.points.some((point) => !TERMINAL.has(point.status)) ?? true,
    10000,
  );
  const chosen = score ?? sweep.data?.rankBy[0];
  const runs = usePolling(
    `${dagId}/${chosen}/${goal}`,
    () => (chosen ? getJson<RunSummary[]>("/runs", { dag_id: dagId, goal, score: chosen }) : Promise.resolve([])),
    () => false,
  );

  if (sweep.error && !sweep.data) {
    return <Problem error={sweep.error} />;
  }
  if (!sweep.data) {
    return <Loading />;
  }
  const { points, rankBy, parameters, study, totalCost } = sweep.data;
  if (points.length === 0) {
    return (
      <Text color="fg.muted" data-testid="no-sweep" p={4}>
        This DAG run has no mapped hybrid jobs: a sweep is a CreateHybridJobOperator expanded over its points.
      </Text>
    );
  }
  const axis = parameter ?? sweep.data.varying ?? parameters[0];
  const best = chosen ? bestOf(points, chosen, goal) : undefined;
  const names = [...new Set(points.flatMap((point) => Object.keys(point.hyperparameters)))].sort();

  return (
    <Box data-testid="braket-sweep" p={2}>
      <Flex gap={4} mb={4} wrap="wrap">
        <Choice label="Rank by" name="score" onChange={setScore} options={rankBy.map((name) => ({ label: name, value: name }))} value={chosen ?? ""} />
        <Choice label="Best is the" name="goal" onChange={setGoal} options={[{ label: "smallest", value: "min" }, { label: "largest", value: "max" }]} value={goal} />
        {parameters.length > 0 && <Choice label="Against" name="parameter" onChange={setParameter} options={parameters.map((name) => ({ label: name, value: name }))} value={axis ?? ""} />}
      </Flex>
      <Section title="Best point">
        {best && chosen ? (
          <Text data-testid="best">
            {`map index ${best.mapIndex}: ${chosen} = ${number(best.scores[chosen])} (${best.jobName})`}
          </Text>
        ) : (
          <Text color="fg.muted">No point has a score yet.</Text>
        )}
        <Text color="fg.muted" mt={1}>
          {"Total cost of the sweep: "}
          <Text as="span" data-testid="sweep-total">{`${totalCost.toFixed(4)} USD`}</Text>
        </Text>
      </Section>
      {chosen && axis && (
        <Section title={`${chosen} by ${axis}`}>
          <SweepChart best={best?.jobArn} parameter={axis} points={points} score={chosen} />
        </Section>
      )}
      <Section title="Points">
        <Box overflowX="auto">
          <Table.Root data-testid="points-table" size="sm">
            <Table.Header>
              <Table.Row>
                <Table.ColumnHeader>Map index</Table.ColumnHeader>
                <Table.ColumnHeader>Status</Table.ColumnHeader>
                {names.map((name) => (
                  <Table.ColumnHeader key={name}>{name}</Table.ColumnHeader>
                ))}
                <Table.ColumnHeader textAlign="end">{chosen ?? "score"}</Table.ColumnHeader>
                <Table.ColumnHeader textAlign="end">Cost</Table.ColumnHeader>
              </Table.Row>
            </Table.Header>
            <Table.Body>
              {points.map((point) => (
                <Table.Row bg={point.jobArn === best?.jobArn ? "bg.emphasized" : undefined} data-best={point.jobArn === best?.jobArn ? "true" : undefined} data-map-index={point.mapIndex} key={`${point.taskId}/${point.mapIndex}`}>
                  <Table.Cell>
                    <Link colorPalette="blue" href={`tasks/${encodeURIComponent(point.taskId)}/mapped/${point.mapIndex}/plugin/braket-job`} title={point.jobName}>
                      {point.mapIndex}
                    </Link>
                  </Table.Cell>
                  <Table.Cell>
                    <StatusBadge status={point.status} />
                  </Table.Cell>
                  {names.map((name) => (
                    <Table.Cell key={name}>{point.hyperparameters[name] ?? "–"}</Table.Cell>
                  ))}
                  <Table.Cell textAlign="end">{chosen ? number(point.scores[chosen]) : "–"}</Table.Cell>
                  <Table.Cell textAlign="end">{money(point.cost)}</Table.Cell>
                </Table.Row>
              ))}
            </Table.Body>
          </Table.Root>
        </Box>
      </Section>
      {study && <StudyPanel connId={study.connId} dagId={dagId} name={study.name} onDirection={(direction) => setStudyGoal(direction === "maximize" ? "max" : "min")} runId={runId} />}
      {chosen && runs.data && runs.data.length > 0 && (
        <Section title={`Runs of ${dagId}: best ${chosen} and cost`}>
          <RunsChart runs={runs.data} score={chosen} />
        </Section>
      )}
      {runs.error && <Problem error={runs.error} />}
    </Box>
  );
};
